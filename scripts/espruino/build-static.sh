#!/usr/bin/env bash
# (A copy of ../shared/espruino/build-static.sh, the script that built the
# interpreters CI uses: `npm run test:espruino` prints how to use it when
# ESPRUINO_DIR is not set. Binaries go to scripts/espruino/bin by default.)
# build-static.sh — build Espruino's Linux interpreter (and board-sized variants)
# from git, every binary STATICALLY linked (glibc, libm, libstdc++ linked in:
# they run on any x86-64 Linux, no 32-bit libraries needed) and stripped.
# Same as build.sh except: 'LDFLAGS+=-static' is added to the 'makefile' list of
# every board file (boards/LINUX.py is patched in the exported tree), the
# binaries are stripped, OUT_DIR defaults to bin/ beside this script, and
# (unless STDIN_EOF_FIX=0) a one-line fix to getch() in targets/linux/jshardware.c
# stops garbage console input when stdin is at EOF (see export_src below).
#
#   build-static.sh GIT_DIR [TAG] [OUT_DIR]
#
#   GIT_DIR   a bare mirror or a clone's .git of github.com/espruino/Espruino
#   TAG       default: the newest RELEASE_* tag (RELEASE_2V29 when written)
#   OUT_DIR   default: bin/ beside this script
#
# Produces, in OUT_DIR (static, stripped; unstripped copies stay in $WORK/*/bin):
#   espruino          BOARD=LINUX RELEASE=1: the stock Linux build (64-bit,
#                     resizable JsVar store, 27-byte JsVars, NET + NetworkJS +
#                     http/net/dgram + FILESYSTEM + Storage emulated in ./espruino.flash)
#   espruino_v5100    32-bit (-m32) Linux builds with a FIXED JsVar store the
#   espruino_v8190    size of a board's ('variables' in boards/*.py of 2v29):
#   espruino_v2756    Pico 5100, Espruino WiFi 8190, Original 2756, ESP32 16383,
#   espruino_v16383   so JsVarRef has the board's width (13/13/12/14 bits) and
#                     JsVar counts match the board's; libraries NET + FILESYSTEM.
# Set VARIANTS="" to build only the stock binary.
#
# Needs: gcc, g++, make, python3 (as `python`), git, binutils (strip), libc6-dev
# (libc.a); gcc-multilib g++-multilib for the -m32 variants (they bring
# libc6-dev-i386 with /usr/lib32/libc.a): apt-get install -y gcc-multilib g++-multilib.
# The link prints glibc's warning that gethostbyname "in statically linked
# applications requires at runtime the shared libraries from the glibc version
# used for linking": only for NSS modules other than 'files' and 'dns' (built
# into glibc >= 2.34); IP addresses, /etc/hosts names and DNS resolve without them.
# Takes about 40 s on 2 cores (stock with TensorFlow ~20 s, each variant ~5 s).
set -euo pipefail
MIRROR=${1:?usage: build-static.sh GIT_DIR [TAG] [OUT_DIR]}
TAG=${2:-$(git --git-dir="$MIRROR" tag | grep '^RELEASE_' | sort -V | tail -1)}
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${3:-$HERE/bin}
VARIANTS=${VARIANTS-"5100 8190 2756 16383"}
WORK=${WORK:-/tmp/espruino-build-static}
JOBS=${JOBS:-2}
STDIN_EOF_FIX=${STDIN_EOF_FIX:-1}   # 1: patch getch() so stdin at EOF is ignored (see export_src)
mkdir -p "$OUT" "$WORK"
command -v python >/dev/null || { echo "build-static.sh: Espruino's Makefile calls 'python': install python3 and python-is-python3" >&2; exit 1; }

# export TAG into dir $1 with a git dir the Makefile/scripts can query
# (they run `git log -1`, `git tag`, `git describe`): a --shared bare clone
# whose detached HEAD is the tag. targetlibs/ (MCU vendor libraries, some
# large blobs absent from partial mirrors) is not needed for Linux.
export_src() {
  local dir=$1
  rm -rf "$dir"
  mkdir -p "$dir"
  git --git-dir="$MIRROR" archive "$TAG" -- . ':(exclude)targetlibs' 2>/dev/null | tar -x -C "$dir"
  git clone -q --shared --bare "$MIRROR" "$dir/.git"
  git --git-dir="$dir/.git" update-ref --no-deref HEAD "$(git --git-dir="$MIRROR" rev-parse "$TAG^{commit}")"
  [ "$STDIN_EOF_FIX" = 1 ] || return 0
  # Upstream bug (2v29 targets/linux/jshardware.c getch()): when stdin is at EOF
  # (</dev/null, a closed pipe, CI without stdin) read() returns 0 and getch()
  # returns an uninitialised byte, so the input thread feeds an endless stream of
  # garbage characters to the console: the 32-bit builds echo 0xF7 bytes, their
  # input line fills the JsVar store (v2756: OUT OF MEMORY within 3 s) and
  # process.memory() is skewed. Fix: treat read() <= 0 as "no character".
  sed -i 's|if ((r = (int)read(STDIN_FILENO, &c, sizeof(c))) < 0) {|if ((r = (int)read(STDIN_FILENO, \&c, sizeof(c))) <= 0) { r = -1; /* EOF: no char (build-static.sh) */|' "$dir/targets/linux/jshardware.c"
  grep -q 'EOF: no char (build-static.sh)' "$dir/targets/linux/jshardware.c" || { echo "build-static.sh: could not patch getch() in targets/linux/jshardware.c (STDIN_EOF_FIX=0 to skip)" >&2; exit 1; }
}

echo "build-static.sh: Espruino $TAG from $MIRROR -> $OUT"
t0=$(date +%s)
SRC=$WORK/stock
export_src "$SRC"
# link statically: add LDFLAGS+=-static to the stock board's 'makefile' list
# (scripts/get_makefile_decls.py turns it into gen/CURRENT_BOARD.make)
sed -i "s/^\(   'makefile' : \[\)\$/\1 'LDFLAGS+=-static',/" "$SRC/boards/LINUX.py"
grep -q "'LDFLAGS+=-static'" "$SRC/boards/LINUX.py" || { echo "build-static.sh: could not patch boards/LINUX.py" >&2; exit 1; }
(cd "$SRC" && make BOARD=LINUX RELEASE=1 -j"$JOBS" > "$WORK/stock.log" 2>&1) || { tail -30 "$WORK/stock.log"; exit 1; }
cp "$SRC/bin/espruino" "$OUT/espruino"
strip "$OUT/espruino"
echo "build-static.sh: espruino built in $(( $(date +%s) - t0 )) s: $("$OUT/espruino" -e 'print(process.version);quit()' 2>/dev/null | grep -a '^[0-9]v' | tail -1)"

for V in $VARIANTS; do
  t1=$(date +%s)
  VS=$WORK/v$V
  export_src "$VS"
  cat > "$VS/boards/LINUX_V$V.py" <<EOF
#!/bin/false
# Linux, 32 bit, statically linked, with a fixed store of $V JsVars (a board's 'variables'), for slabnet memory checks.
import pinutils;
info = {
 'name' : "Linux 32-bit, $V JsVars",
 'default_console' : "EV_USBSERIAL",
 'variables' : $V,
 'binary_name' : 'espruino_v$V',
 'build' : {
   'libraries' : [ 'NET', 'FILESYSTEM' ],
   'makefile' : [
     'CFLAGS+=-m32', 'LDFLAGS+=-m32 -static', 'DEFINES+=-DUSE_CALLFUNCTION_HACK',
     'DEFINES+=-DSPIFLASH_BASE=0 -DSPIFLASH_LENGTH=FLASH_SAVED_CODE_LENGTH',
     'LINUX=1',
   ]
 }
};
chip = { 'part' : "LINUX", 'family' : "LINUX", 'package' : "", 'ram' : 0, 'flash' : 256, 'speed' : -1,
         'usart' : 6, 'spi' : 3, 'i2c' : 3, 'adc' : 0, 'dac' : 0 };
devices = { 'USB' : {} };
def get_pins():
  return pinutils.generate_pins(0,32)
EOF
  (cd "$VS" && make BOARD=LINUX_V$V RELEASE=1 -j"$JOBS" > "$WORK/v$V.log" 2>&1) || { tail -30 "$WORK/v$V.log"; exit 1; }
  cp "$VS/bin/espruino_v$V" "$OUT/espruino_v$V"
  strip "$OUT/espruino_v$V"
  echo "build-static.sh: espruino_v$V built in $(( $(date +%s) - t1 )) s: $("$OUT/espruino_v$V" -e 'var m=process.memory();print("jsvars",m.total,"blocksize",m.blocksize);quit()' 2>/dev/null | grep -a '^jsvars' | tail -1)"
done
file "$OUT"/espruino*
echo "build-static.sh: done in $(( $(date +%s) - t0 )) s"
