/* kprof run: not built yet; replaced by the module that provides it. */
#include "cli/commands.h"
#include "common/common.h"

int cmd_run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	kp_error("'run' is not available in this build");
	return 2;
}
