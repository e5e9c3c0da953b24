/* kprof boot: not built yet; replaced by the module that provides it. */
#include "cli/commands.h"
#include "common/common.h"

int cmd_boot(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	kp_error("'boot' is not available in this build");
	return 2;
}
