#!/bin/sh
# mkman.sh KPROF TEMPLATE DOCDIR: write kprof's man page on standard output.
#
# The hand-written parts come from TEMPLATE (man/kprof.1.in).  The commands and their options
# come from the program itself: `KPROF --help` lists the commands, and each `KPROF CMD --help`
# becomes that command's subsection, so an option or a command added to the program is in the
# page at the next build.  Fills in @SYNOPSIS@, @COMMANDS@, @VERSION@, @DATE@ and @DOCDIR@.
set -eu

if [ $# -ne 3 ]; then
	echo "usage: mkman.sh KPROF TEMPLATE DOCDIR" >&2
	exit 2
fi
kprof=$1 template=$2 docdir=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

die() {
	echo "mkman.sh: $*" >&2
	exit 1
}

version=$("$kprof" --version) || die "$kprof --version failed"
version=${version#kprof }
# The page's date: the source's, for a reproducible page (SOURCE_DATE_EPOCH, else the last
# commit's), or none outside a git tree.
if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
	date=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%d)
else
	date=$(git -C "$(dirname "$template")" log -1 --format=%cs 2>/dev/null || true)
fi

"$kprof" --help >"$tmp/main" || die "$kprof --help failed"
# "commands:" then one "  NAME  summary" line per command, up to a blank line.
awk '/^commands:/ { on = 1; next } on && /^$/ { exit } on && /^  [a-z]/ { print }' \
	"$tmp/main" >"$tmp/commands"
[ -s "$tmp/commands" ] || die "$kprof --help lists no commands"

# help2roff: one command's --help text as man(7) source.  Option lines ("  -x, --long ARG  text",
# text continued on lines indented further) become tagged paragraphs; other indented lines are
# kept as they are; the rest is running text, a blank line ending a paragraph.
cat >"$tmp/help2roff.awk" <<'AWK'
function esc(s) {
	gsub(/\\/, "\\e", s)
	gsub(/-/, "\\-", s)
	return s
}
# A line of running text must not start with a control character.
function line(s) {
	if (s ~ /^[.']/)
		s = "\\&" s
	print s
}
# Options bold, placeholders (FILE, KERNEL.elf, CODE|SIGNAL) italic, the rest roman.
function spec(s,    n, w, i, out, t, tail) {
	n = split(s, w, / +/)
	out = ""
	for (i = 1; i <= n; i++) {
		t = w[i]
		tail = ""
		if (t ~ /,$/) {
			tail = ","
			t = substr(t, 1, length(t) - 1)
		}
		if (t ~ /^--?[A-Za-z]/)
			t = "\\fB" esc(t) "\\fR"
		else if (t ~ /^[A-Z][A-Z0-9_|]*(\.[a-z]+)?$/)
			t = "\\fI" esc(t) "\\fR"
		else
			t = esc(t)
		out = out (i > 1 ? " " : "") t tail
	}
	return out
}
function para() {
	if (!inpara) {
		print ".PP"
		inpara = 1
	}
}
function endpre() {
	if (inpre) {
		print ".fi"
		print ".RE"
		inpre = 0
	}
}
# The usage lines are the synopsis; the section shows them too, "kprof CMD" in bold.
/^usage: / || (inusage && /^       kprof /) {
	sub(/^usage: /, "")
	sub(/^ +/, "")
	endpre()
	if (!inusage)
		print ".PP"
	inusage = 1
	split($0, u, " ")
	rest = substr($0, length(u[1]) + length(u[2]) + 3)
	print ".B " u[1] " " u[2]
	if (rest != "")
		line(spec(rest))
	print ".br"
	print ".B " u[1] " " u[2] >>synopsis
	if (rest != "")
		print spec(rest) >>synopsis
	print ".br" >>synopsis
	next
}
{ inusage = 0 }
/^$/ { endpre(); inpara = 0; inopt = 0; next }
# An option: one to four spaces, then a dash (no {m,n}: mawk lacks it).
/^  ?  ?-/ || /^ -/ {
	endpre()
	s = $0
	sub(/^ +/, "", s)
	desc = ""
	if (match(s, /  +/)) {
		desc = substr(s, RSTART + RLENGTH)
		s = substr(s, 1, RSTART - 1)
	}
	print ".TP"
	line(spec(s))
	if (desc != "")
		line(esc(desc))
	inopt = 1
	inpara = 1
	next
}
# An option's text, continued.
inopt && /^     / {
	s = $0
	sub(/^ +/, "", s)
	line(esc(s))
	next
}
# Other indented lines (examples, tables): kept as they are.
/^  / {
	if (!inpre) {
		print ".RS"
		print ".nf"
		inpre = 1
	}
	inopt = 0
	s = $0
	sub(/^  /, "", s)
	line(esc(s))
	next
}
{
	endpre()
	if (inopt) {
		inopt = 0
		inpara = 0
	}
	para()
	line(esc($0))
}
END { endpre() }
AWK

: >"$tmp/synopsis"
: >"$tmp/sections"
while read -r name summary; do
	"$kprof" "$name" --help >"$tmp/help" 2>"$tmp/err" ||
		die "$kprof $name --help failed: $(head -1 "$tmp/err")"
	[ -s "$tmp/help" ] || die "$kprof $name --help printed nothing"
	{
		echo ".SS \"kprof $name\""
		printf '%s\n' "$summary" | awk '{ gsub(/\\/, "\\e"); gsub(/-/, "\\-") } { print }' |
			sed 's/^\([.'\'']\)/\\\&\1/'
		awk -v synopsis="$tmp/synopsis" -f "$tmp/help2roff.awk" "$tmp/help"
	} >>"$tmp/sections"
done <"$tmp/commands"

# The template, with each @FIELD@ line or word replaced.
awk -v version="$version" -v date="$date" -v docdir="$docdir" \
	-v synopsis="$tmp/synopsis" -v sections="$tmp/sections" '
function cat(f,    l) {
	while ((getline l <f) > 0)
		print l
	close(f)
}
$0 == "@SYNOPSIS@" { cat(synopsis); print ".B kprof"; print "\\fB\\-\\-help\\fR | \\fB\\-\\-version\\fR"; next }
$0 == "@COMMANDS@" { cat(sections); next }
{
	gsub(/@VERSION@/, version)
	gsub(/@DATE@/, date)
	gsub(/@DOCDIR@/, docdir)
	print
}' "$template"
