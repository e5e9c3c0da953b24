/* What an input is, from its first bytes: the content decides, never the file name. */
#include "convert/convert.h"

#include <string.h>

enum convert_input convert_sniff(const void *head, size_t len)
{
	/* gzip's magic and its one method (deflate): what pprof files are on disk. */
	if (len >= 3 && !memcmp(head, "\x1f\x8b\x08", 3))
		return CONVERT_IN_PPROF;
	/* Text kinds are flamegraph/'s to tell apart; JSON starts with '{'. */
	switch (fg_detect_input(head, len)) {
	case FG_INPUT_JSON:
		return CONVERT_IN_JSON;
	case FG_INPUT_GDB_BT:
		return CONVERT_IN_GDB_BT;
	case FG_INPUT_FOLDED:
		break;
	}
	return CONVERT_IN_FOLDED;
}
