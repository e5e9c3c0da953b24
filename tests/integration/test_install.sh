#!/usr/bin/env bash
# make install and make uninstall into a staging root (DESTDIR), as a distribution package
# builds: the files land where PREFIX and the GNU directory variables say, the installed kprof
# runs, its man page renders without a warning and agrees with every command's --help
# (man_check.py), an installed example runs, and make uninstall leaves no file behind.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh

# A make of its own: not the jobserver or flags of a make check above, nor a PREFIX or DESTDIR
# from the environment.
MAKE_INSTALL=(env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u PREFIX -u prefix -u DESTDIR
	make -s --no-print-directory BUILD=build)
ROOT=$WORK/root
rm -rf "$ROOT"

# The files make install must put under ROOT for PREFIX=/usr, one a line, sorted.
expected() {
	{
		echo usr/bin/kprof
		echo usr/share/man/man1/kprof.1
		for f in examples/*; do
			[ -f "$f" ] || continue	# a folder of the scripts' own pieces
			case "$f" in *.sh) ;; *) echo "usr/share/doc/kprof/examples/${f#examples/}" ;; esac
		done
		echo usr/share/doc/kprof/examples/kprof-guest.elf
		echo usr/share/doc/kprof/examples/kprof-guest-nofp.elf
	} | sort
}

"${MAKE_INSTALL[@]}" install DESTDIR="$ROOT" PREFIX=/usr >"$WORK/install.log" 2>&1
st=$?
check "make install DESTDIR=... PREFIX=/usr (status $st)" test "$st" = 0
(cd "$ROOT" && find . -type f | sed 's|^\./||' | sort) >"$WORK/files"
expected >"$WORK/expected"
if cmp -s "$WORK/files" "$WORK/expected"; then
	pass "make install put exactly kprof, kprof.1 and the examples ($(wc -l <"$WORK/files") files)"
else
	fail "make install's files" "$(diff "$WORK/expected" "$WORK/files" | tr '\n' ' ')"
fi
check "the installed kprof is executable" test -x "$ROOT/usr/bin/kprof"
check "the man page and examples are not executable" \
	sh -c "! find '$ROOT/usr/share' -type f -perm /111 | grep -q ."

# The installed program runs on its own.
v=$("$ROOT/usr/bin/kprof" --version)
check "installed kprof --version ($v) is the built one" test "$v" = "$("$KPROF" --version)"
"$ROOT/usr/bin/kprof" --help >"$WORK/help.txt"
check "installed kprof --help exits 0 and lists the commands" has "$WORK/help.txt" '^  run '

# The man page: man -l renders it at a fixed width, groff has nothing to warn about.
page=$ROOT/usr/share/man/man1/kprof.1
MANWIDTH=80 LC_ALL=C.UTF-8 man -l "$page" >"$WORK/man.txt" 2>"$WORK/man.err"
st=$?
check "man -l kprof.1 renders (status $st)" test "$st" = 0 -a -s "$WORK/man.txt"
check "man -l kprof.1 prints no warning" test ! -s "$WORK/man.err"
[ -s "$WORK/man.err" ] && sed 's/^/    /' "$WORK/man.err" | head
groff -man -Tutf8 -ww -z "$page" 2>"$WORK/groff.err"
check "groff -ww finds nothing to warn about" test ! -s "$WORK/groff.err"
[ -s "$WORK/groff.err" ] && sed 's/^/    /' "$WORK/groff.err" | head
# The hand-written examples are set line by line (no filling): they must fit the width.
awk '/^EXAMPLES/ { on = 1 } /^SEE ALSO/ { on = 0 } on && length > 80' "$WORK/man.txt" \
	>"$WORK/wide.txt"
check "the rendered EXAMPLES fit 80 columns" test ! -s "$WORK/wide.txt"
check "the page names the installed examples (docdir from PREFIX)" \
	has "$WORK/man.txt" '/usr/share/doc/kprof/examples'
python3 tests/integration/man_check.py "$ROOT/usr/bin/kprof" "$WORK/man.txt"

# The installed examples are usable as the man page says.
ex=$ROOT/usr/share/doc/kprof/examples
"$ROOT/usr/bin/kprof" parse "$ex/guest-trace.json" --format folded -o "$WORK/guest.folded" \
	2>"$WORK/parse.err"
check "installed kprof parses the installed guest-trace.json" \
	has "$WORK/guest.folded" 'cpu_work.* [0-9]+$'
timeout 120 "$ROOT/usr/bin/kprof" run --cpus 1 --cmdline iterations=1 "$ex/kprof-guest.elf" \
	>"$WORK/run.out" 2>&1
st=$?
check "installed kprof boots the installed test kernel (status $st)" test "$st" = 0

"${MAKE_INSTALL[@]}" uninstall DESTDIR="$ROOT" PREFIX=/usr >"$WORK/uninstall.log" 2>&1
st=$?
check "make uninstall (status $st)" test "$st" = 0
left=$(find "$ROOT" -type f | sed "s|^$ROOT/||" | tr '\n' ' ')
check "make uninstall leaves no file behind${left:+ (left: $left)}" test -z "$left"
check "make uninstall removes kprof's own directories" test ! -e "$ROOT/usr/share/doc/kprof"

# The default prefix is /usr/local; the GNU directory variables move single parts.
ROOT2=$WORK/root2
"${MAKE_INSTALL[@]}" install DESTDIR="$ROOT2" mandir=/opt/man >"$WORK/install2.log" 2>&1
check "default PREFIX: kprof in /usr/local/bin" test -x "$ROOT2/usr/local/bin/kprof"
check "mandir=/opt/man: kprof.1 in /opt/man/man1" test -f "$ROOT2/opt/man/man1/kprof.1"
check "default PREFIX: examples in /usr/local/share/doc/kprof" \
	test -f "$ROOT2/usr/local/share/doc/kprof/examples/kprof-guest.elf"
"${MAKE_INSTALL[@]}" uninstall DESTDIR="$ROOT2" mandir=/opt/man >>"$WORK/install2.log" 2>&1
left=$(find "$ROOT2" -type f | sed "s|^$ROOT2/||" | tr '\n' ' ')
check "make uninstall with the same variables leaves no file behind${left:+ (left: $left)}" \
	test -z "$left"
# Leave build/kprof.1 naming the default docdir again, as make all made it.
"${MAKE_INSTALL[@]}" build/kprof.1 >/dev/null 2>&1
