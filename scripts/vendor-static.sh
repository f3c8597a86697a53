#!/usr/bin/env bash
# Refresh the vendored front-end libraries under static/vendor/ from the npm
# registry, at the exact versions pinned in package.json. Run it by hand when a
# version changes and commit the result: the app itself never needs npm or a CDN.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp package.json "$work/"
(cd "$work" && npm install --no-audit --no-fund --ignore-scripts --silent)
nm="$work/node_modules"
dest=static/vendor
rm -rf "$dest"
mkdir -p "$dest/bootstrap/css" "$dest/bootstrap/js" "$dest/htmx" "$dest/chartjs"
cp "$nm/bootstrap/dist/css/bootstrap.min.css" "$nm/bootstrap/dist/css/bootstrap.min.css.map" "$dest/bootstrap/css/"
cp "$nm/bootstrap/dist/js/bootstrap.bundle.min.js" "$nm/bootstrap/dist/js/bootstrap.bundle.min.js.map" "$dest/bootstrap/js/"
cp "$nm/bootstrap/LICENSE" "$dest/bootstrap/LICENSE"
cp "$nm/htmx.org/dist/htmx.min.js" "$dest/htmx/"
cp "$nm/htmx.org/LICENSE" "$dest/htmx/LICENSE"
# Its source map is not shipped: drop the reference, or collectstatic's
# manifest storage (production) fails on the missing file.
sed '\#^//\# sourceMappingURL=#d' "$nm/chart.js/dist/chart.umd.min.js" > "$dest/chartjs/chart.umd.min.js"
cp "$nm/chart.js/LICENSE.md" "$dest/chartjs/LICENSE.md"
for pkg in bootstrap htmx.org chart.js; do
  printf '%s %s\n' "$pkg" "$(node -p "require('$nm/$pkg/package.json').version")"
done > "$dest/VERSIONS"
cat "$dest/VERSIONS"
