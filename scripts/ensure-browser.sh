#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (a downloaded browser never works
# here). `make test` calls this first: it installs Chromium and a CJK font
# (for readable Chinese screenshots) from Debian when they are missing and we
# may use apt-get; otherwise it says what to install and fails.
set -euo pipefail
if command -v chromium >/dev/null && fc-list 2>/dev/null | grep -qi wenquanyi; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing Debian's chromium and fonts-wqy-microhei for the browser tests..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null
  exit 0
fi
echo "The browser tests need Debian's Chromium: sudo apt-get install chromium fonts-wqy-microhei" >&2
echo "(or run 'make test-fast', which leaves the browser tests out)." >&2
exit 1
