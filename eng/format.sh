#!/usr/bin/env bash
# Applies the code style of .editorconfig to the whole solution, then builds with the rules enforced
# (RpcGenEnforceCodeStyle=true) to name whatever is left. Called by ./build.sh format.
#   eng/format.sh [ARGS]      ARGS go to dotnet format (e.g. --verify-no-changes to check without writing)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# The switch as an environment variable reaches every project MSBuild loads for dotnet format: IDE0005 needs the XML
# documentation it turns on.
RpcGenEnforceCodeStyle=true dotnet format style RpcGen.sln --severity warn "$@"
# dotnet format reads a multi-targeted project under its first target only (the runtime as net8.0), so code under
# #if NET9_0_OR_GREATER keeps its unused usings; the build sees every target and names them.
dotnet build RpcGen.sln -c Release -nologo -v quiet -p:RpcGenEnforceCodeStyle=true
