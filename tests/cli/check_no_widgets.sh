#!/bin/sh
# Fails when the program $1 loads Qt 6 Widgets (directly or through a library it needs): the
# command line must run without the GUI's libraries. Qt 5 libraries that Debian's LibTorch pulls
# in through OpenCV are not ours and are not checked. Also fails when ldd cannot list the
# program or the list lacks Qt 6 Core (then the check itself would be looking at nothing).
set -u
program="$1"
libs=$(ldd "$program") || { echo "ldd could not list $program" >&2; exit 1; }
if ! printf '%s\n' "$libs" | grep -q 'libQt6Core\.so'; then
    echo "ldd's list for $program has no libQt6Core: the check cannot tell what it loads" >&2
    exit 1
fi
widgets=$(printf '%s\n' "$libs" | grep 'libQt6Widgets')
if [ -n "$widgets" ]; then
    echo "$program loads Qt 6 Widgets, which the command line must not need:" >&2
    printf '%s\n' "$widgets" >&2
    exit 1
fi
echo "$program: no Qt 6 Widgets among $(printf '%s\n' "$libs" | grep -c '=>') libraries"
