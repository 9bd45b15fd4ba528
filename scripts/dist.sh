#!/usr/bin/env bash
# make dist: busd and busctl for machines without a Swift toolchain.
#
#   dist/socketbus-<version>-linux-<arch>.tar.gz   a /usr/local tree (docs/install.md)
#   dist/socketbus_<version>_<debian-arch>.deb      the same files under /usr, for dpkg
#
# Release build with the Swift runtime linked in (--static-swift-stdlib); the C
# libraries (hiredis, msgpack-c, libcurl, OpenSSL) stay Debian's shared ones and
# become the .deb's Depends (dpkg-shlibdeps). Man pages come from
# swift-argument-parser's generate-manual plugin, completions from
# --generate-completion-script. The version is SocketBusVersion.string
# (Sources/BusCore/SocketBusVersion.swift).
#
# The Makefile passes SWIFT, BUILD_DIR, SWIFT_FLAGS and DIST_DIR.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
SWIFT=${SWIFT:-swift}
BUILD_DIR=${BUILD_DIR:-.build}
DIST_DIR=${DIST_DIR:-dist}
mkdir -p "$DIST_DIR"
DIST_DIR=$(cd "$DIST_DIR" && pwd)
read -ra spm <<<"--scratch-path $BUILD_DIR ${SWIFT_FLAGS:-}"

version=$(sed -n 's/^ *public static let string = "\([^"]*\)"$/\1/p' Sources/BusCore/SocketBusVersion.swift)
[[ $version =~ ^[0-9][0-9A-Za-z.+~-]*$ ]] || { echo "dist: no version in Sources/BusCore/SocketBusVersion.swift" >&2; exit 1; }
arch=$(uname -m)
deb_arch=$(dpkg --print-architecture)
# Dates from the last commit, so two runs on one commit make the same files.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
man_date=$(date -u -d "@$SOURCE_DATE_EPOCH" +%F)
name=socketbus-$version-linux-$arch
step() { echo "dist: $*"; }

# --- man pages ---------------------------------------------------------------
# The plugin builds every product before it reads their --help (the text does
# not depend on the build): in debug, which `make test` has built already,
# and not in release, whose flags differ from --static-swift-stdlib's and would
# make a second full release build. One run per section (busd.8, busctl.1).
manuals=$BUILD_DIR/plugins/GenerateManual/outputs
man_dir=$(mktemp -d)
trap 'rm -rf "$man_dir"' EXIT
for page in busd:8:Busd busctl:1:BusCtl; do
    IFS=: read -r tool section target <<<"$page"
    step "man page $tool.$section (swift package plugin generate-manual)"
    rm -rf "${manuals:?}/$target"
    "$SWIFT" package "${spm[@]}" plugin generate-manual --configuration debug --section "$section" --date "$man_date" \
        >"$man_dir/plugin.log" 2>&1 || { cat "$man_dir/plugin.log" >&2; exit 1; }
    # The generator keeps a help text's second and later blank lines as they
    # are; in mdoc an empty line is a warning, a paragraph is .Pp.
    sed 's/^$/.Pp/' "$manuals/$target/$tool.$section" >"$man_dir/$tool.$section"
done

# --- binaries ----------------------------------------------------------------
for product in busd busctl; do
    step "swift build -c release --static-swift-stdlib --product $product"
    "$SWIFT" build "${spm[@]}" -c release --static-swift-stdlib --product "$product"
done
bin=$("$SWIFT" build "${spm[@]}" -c release --static-swift-stdlib --show-bin-path)
for tool in busd busctl; do
    if readelf -d "$bin/$tool" | grep -q 'NEEDED.*libswift\|NEEDED.*libFoundation\|NEEDED.*libdispatch'; then
        echo "dist: $bin/$tool links the shared Swift runtime" >&2
        exit 1
    fi
done

# --- the tarball: a tree for /usr/local ---------------------------------------
rm -rf "${DIST_DIR:?}/$name" "$DIST_DIR/deb"
tree=$DIST_DIR/$name
step "staging $tree"
install -d "$tree/bin" "$tree/lib/socketbus" "$tree/lib/systemd/system" \
    "$tree/share/man/man1" "$tree/share/man/man8" "$tree/share/bash-completion/completions" \
    "$tree/share/zsh/site-functions" "$tree/share/fish/vendor_completions.d" "$tree/share/doc/socketbus/examples"
for tool in busd busctl; do
    install -m 0755 "$bin/$tool" "$tree/lib/socketbus/$tool"
    strip "$tree/lib/socketbus/$tool"
    "$bin/$tool" --generate-completion-script bash >"$tree/share/bash-completion/completions/$tool"
    "$bin/$tool" --generate-completion-script zsh >"$tree/share/zsh/site-functions/_$tool"
    "$bin/$tool" --generate-completion-script fish >"$tree/share/fish/vendor_completions.d/$tool.fish"
done
# Like `make install`: /usr/local/bin comes before systemd's /usr/bin/busctl.
ln -s ../lib/socketbus/busctl "$tree/bin/busctl"
install -m 0644 "$man_dir/busd.8" "$tree/share/man/man8/busd.8"
install -m 0644 "$man_dir/busctl.1" "$tree/share/man/man1/busctl.1"
# systemd reads /usr/local/lib/systemd/system, where the unit's ExecStart already points.
install -m 0644 deploy/busd@.service "$tree/lib/systemd/system/busd@.service"
install -m 0644 deploy/busd.yaml deploy/busd.env.example "$tree/share/doc/socketbus/examples/"
install -m 0644 docs/install.md "$tree/share/doc/socketbus/install.md"
find "$tree" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
step "$DIST_DIR/$name.tar.gz"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" \
    -C "$DIST_DIR" -cf - "$name" | gzip -6n >"$DIST_DIR/$name.tar.gz"

# --- the .deb: the same files under /usr ---------------------------------------
deb=$DIST_DIR/deb/root
step "staging $deb"
install -d "$deb/DEBIAN" "$deb/usr/bin" "$deb/usr/lib" "$deb/usr/share/man/man1" "$deb/usr/share/man/man8" \
    "$deb/usr/share/bash-completion/completions" "$deb/usr/share/zsh/vendor-completions" \
    "$deb/usr/share/fish/vendor_completions.d" "$deb/usr/share/doc" "$deb/etc/socketbus"
cp -a "$tree/lib/socketbus" "$deb/usr/lib/"
install -d "$deb/usr/lib/systemd/system"
sed 's#/usr/local/lib/socketbus/#/usr/lib/socketbus/#g' "$tree/lib/systemd/system/busd@.service" \
    >"$deb/usr/lib/systemd/system/busd@.service"
cp -a "$tree/share/doc/socketbus" "$deb/usr/share/doc/"
# Debian policy's own files: the copyright of what the binaries hold, and a
# native package's changelog (one entry: the history is the project's git log).
install -m 0644 deploy/debian/copyright "$deb/usr/share/doc/socketbus/copyright"
maintainer=$(sed -n 's/^Maintainer: //p' deploy/debian/control.in)
printf '%s (%s) unstable; urgency=medium\n\n  * Release %s: see docs/ and the project history.\n\n -- %s  %s\n' \
    socketbus "$version" "$version" "$maintainer" "$(date -u -R -d "@$SOURCE_DATE_EPOCH")" |
    gzip -9n >"$deb/usr/share/doc/socketbus/changelog.gz"
install -d "$deb/usr/share/lintian/overrides"
install -m 0644 deploy/debian/lintian-overrides "$deb/usr/share/lintian/overrides/socketbus"
# systemd's package owns /usr/bin/busctl, its man page and its completions, so
# ours is socketbus-busctl on PATH (and /usr/lib/socketbus/busctl, which an
# admin may link from /usr/local/bin as `make install` does).
ln -s ../lib/socketbus/busctl "$deb/usr/bin/socketbus-busctl"
gzip -9n <"$tree/share/man/man8/busd.8" >"$deb/usr/share/man/man8/busd.8.gz"
sed 's/^\.Dt BUSCTL /.Dt SOCKETBUS-BUSCTL /' "$tree/share/man/man1/busctl.1" | gzip -9n >"$deb/usr/share/man/man1/socketbus-busctl.1.gz"
# bash-completion sources these files: a #! line is only noise (lintian).
sed '1{/^#!/d}' "$tree/share/bash-completion/completions/busd" >"$deb/usr/share/bash-completion/completions/busd"
cp "$tree/share/zsh/site-functions/_busd" "$deb/usr/share/zsh/vendor-completions/_busd"
cp "$tree/share/fish/vendor_completions.d/busd.fish" "$deb/usr/share/fish/vendor_completions.d/busd.fish"
# The completion scripts name their functions after the command (_busctl, as
# systemd's does): renamed throughout, so both can be loaded in one shell.
rename_busctl() { sed 's/busctl/socketbus-busctl/g' "$1" >"$2"; }
sed '1{/^#!/d}' "$tree/share/bash-completion/completions/busctl" >"$DIST_DIR/deb/busctl.bash"
rename_busctl "$DIST_DIR/deb/busctl.bash" "$deb/usr/share/bash-completion/completions/socketbus-busctl"
rm "$DIST_DIR/deb/busctl.bash"
rename_busctl "$tree/share/zsh/site-functions/_busctl" "$deb/usr/share/zsh/vendor-completions/_socketbus-busctl"
rename_busctl "$tree/share/fish/vendor_completions.d/busctl.fish" "$deb/usr/share/fish/vendor_completions.d/socketbus-busctl.fish"
# The conffiles: the example config, and the secrets file (comments only) mode 0600.
install -m 0640 deploy/busd.yaml "$deb/etc/socketbus/busd.yaml"
install -m 0600 deploy/busd.env.example "$deb/etc/socketbus/busd.env"
printf '/etc/socketbus/busd.yaml\n/etc/socketbus/busd.env\n' >"$deb/DEBIAN/conffiles"
for script in postinst prerm postrm; do install -m 0755 "deploy/debian/$script" "$deb/DEBIAN/$script"; done

# Depends: the Debian packages of the shared libraries the binaries need.
shlibs=$(mktemp -d)
mkdir "$shlibs/debian"
printf 'Source: socketbus\n\nPackage: socketbus\nArchitecture: any\n' >"$shlibs/debian/control"
depends=$(cd "$shlibs" && dpkg-shlibdeps -O "-e$deb/usr/lib/socketbus/busd" "-e$deb/usr/lib/socketbus/busctl" 2>/dev/null |
    sed -n 's/^shlibs:Depends=//p')
rm -rf "$shlibs"
[[ -n $depends ]] || { echo "dist: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
installed_size=$(du -sk --exclude=DEBIAN "$deb" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$deb_arch/" -e "s/@DEPENDS@/$depends, passwd/" \
    -e "s/@INSTALLED_SIZE@/$installed_size/" -e "/^#/d" deploy/debian/control.in >"$deb/DEBIAN/control"
find "$deb" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
deb_file=$DIST_DIR/socketbus_${version}_$deb_arch.deb
step "$deb_file"
dpkg-deb --root-owner-group -Zxz -z2 --build "$deb" "$deb_file" >/dev/null
# The staging trees are in the two files now.
rm -rf "${tree:?}" "${DIST_DIR:?}/deb"
step "done: $DIST_DIR/$name.tar.gz $deb_file (Depends: $depends, passwd)"
