/* cli: the kprof command table.  Each command lives in cli/cmd_<name>.c. */
#ifndef KPROF_CLI_COMMANDS_H
#define KPROF_CLI_COMMANDS_H

int cmd_run(int argc, char **argv);
int cmd_collect(int argc, char **argv);
int cmd_parse(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_boot(int argc, char **argv);

#endif
