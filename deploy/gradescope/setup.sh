#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder's image (Ubuntu),
# with the zip unpacked in /autograder/source. It installs what rollcall's grader needs:
# Node 20 (Ubuntu's own nodejs is older) and the kit's npm packages, tslab among them.
# The grader runs tslab's executor in its own Node workers, so no Jupyter is needed;
# `unshare` (util-linux) lets the workers run without a network.
set -euo pipefail
source_dir="${ROLLCALL_AUTOGRADER_ROOT:-/autograder}/source"
cd "$source_dir"
export DEBIAN_FRONTEND=noninteractive

apt-get update -qq
apt-get install -y -qq ca-certificates curl gnupg util-linux >/dev/null

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(node_major)" -lt 20 ]; then
  # NodeSource's apt repository for Node 20, as nodejs.org's download page points to.
  install -d -m 0755 /etc/apt/keyrings
  curl -fsSL https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key | gpg --dearmor --yes -o /etc/apt/keyrings/nodesource.gpg
  echo "deb [signed-by=/etc/apt/keyrings/nodesource.gpg] https://deb.nodesource.com/node_20.x nodistro main" >/etc/apt/sources.list.d/nodesource.list
  apt-get update -qq
  apt-get install -y -qq nodejs >/dev/null
fi
echo "node $(node --version), npm $(npm --version)"

# Exactly the locked packages; npm's prepare step compiles the kit into dist/.
npm ci --no-audit --no-fund
test -f dist/scripts/gradescope-grade.mjs
echo "rollcall's autograder for $(cat LESSON) is installed"
