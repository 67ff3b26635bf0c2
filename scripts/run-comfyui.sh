#!/usr/bin/env bash
# Set up ComfyUI with the motioncomic pack and start it (command 1 of DEVELOPERS.md / README).
#
#   ./scripts/run-comfyui.sh                 # clone ComfyUI if needed, make a venv, install, start
#   COMFYUI_DIR=~/ComfyUI ./scripts/run-comfyui.sh      # use an existing checkout
#   ./scripts/run-comfyui.sh --no-start      # set up only
#   ./scripts/run-comfyui.sh --skip-install  # just link the pack and start
#   ./scripts/run-comfyui.sh -- --lowvram    # anything after -- goes to ComfyUI's main.py
#
# Environment:
#   COMFYUI_DIR     ComfyUI checkout (default: ~/.local/share/motioncomic/ComfyUI, cloned from
#                   GitHub with --depth 1 when the folder has no main.py)
#   COMFYUI_PYTHON  interpreter to use (default: a venv at $COMFYUI_DIR/venv, created if missing)
#   COMFYUI_BASE    optional --base-directory (models/, custom_nodes/, input/, output/ live there)
#   HOST, PORT      where to listen (default 127.0.0.1:8188)
#   TORCH_INDEX_URL pip index for torch (default: PyPI; the CPU wheel index on machines without
#                   an NVIDIA GPU, so a multi-GB CUDA build is not downloaded for nothing)
#   MOTIONCOMIC_CPU=1  force --cpu
#
# torch is not pinned: on a GPU machine keep (or install) the build that matches your driver; this
# script only installs torch when the interpreter has none.
set -euo pipefail

PACK="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
COMFYUI_DIR="${COMFYUI_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/motioncomic/ComfyUI}"
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8188}"
START=1
INSTALL=1
EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --no-start) START=0 ;;
    --skip-install) INSTALL=0 ;;
    --) shift; EXTRA=("$@"); break ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "unknown option: $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

say() { printf '\033[1m[motioncomic]\033[0m %s\n' "$*" >&2; }

# 1. ComfyUI checkout
if [ ! -f "$COMFYUI_DIR/main.py" ]; then
  say "cloning ComfyUI into $COMFYUI_DIR"
  mkdir -p "$(dirname "$COMFYUI_DIR")"
  git clone --depth 1 https://github.com/comfyanonymous/ComfyUI.git "$COMFYUI_DIR"
fi

# 2. Python environment
if [ -n "${COMFYUI_PYTHON:-}" ]; then
  PY="$COMFYUI_PYTHON"
else
  if [ ! -x "$COMFYUI_DIR/venv/bin/python" ]; then
    say "creating a venv at $COMFYUI_DIR/venv"
    python3 -m venv "$COMFYUI_DIR/venv"
  fi
  PY="$COMFYUI_DIR/venv/bin/python"
fi

has_gpu() { command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; }

if [ "$INSTALL" = 1 ]; then
  if ! "$PY" -c "import torch" 2>/dev/null; then
    INDEX="${TORCH_INDEX_URL:-}"
    if [ -z "$INDEX" ] && ! has_gpu && [ "$(uname)" != "Darwin" ]; then
      INDEX="https://download.pytorch.org/whl/cpu"
      say "no NVIDIA GPU found: installing the CPU build of torch (set TORCH_INDEX_URL to override)"
    fi
    "$PY" -m pip install --upgrade pip
    "$PY" -m pip install torch torchvision ${INDEX:+--index-url "$INDEX"}
  fi
  # keep the torch that is installed: drop torch lines from ComfyUI's list and pin it for ours
  TORCH_VERSION="$("$PY" -c 'import torch; print(torch.__version__.split("+")[0])')"
  PIN="$(mktemp)"; REQ="$(mktemp)"; trap 'rm -f "$PIN" "$REQ"' EXIT
  echo "torch==$TORCH_VERSION" > "$PIN"
  grep -viE '^\s*(torch|torchvision|torchaudio)\b' "$COMFYUI_DIR/requirements.txt" > "$REQ" || true
  say "installing ComfyUI's and the pack's requirements (torch $TORCH_VERSION kept)"
  "$PY" -m pip install -r "$REQ" -c "$PIN"
  # ComfyUI's audio nodes need torchaudio built for this very torch: same version, same index
  # (torch 2.x.y pairs with torchaudio 2.x.y; the local tag +cu124 / +cpu names the index).
  if ! "$PY" -c "import torchaudio" >/dev/null 2>&1; then
    TAG="$("$PY" -c 'import torch; v=torch.__version__; print(v.split("+")[1] if "+" in v else "")')"
    AUDIO_INDEX="${TORCH_INDEX_URL:-}"
    [ -z "$AUDIO_INDEX" ] && [ -n "$TAG" ] && AUDIO_INDEX="https://download.pytorch.org/whl/$TAG"
    say "installing torchaudio==$TORCH_VERSION${AUDIO_INDEX:+ from $AUDIO_INDEX} (ComfyUI's audio nodes)"
    if ! "$PY" -m pip install "torchaudio==$TORCH_VERSION" -c "$PIN" ${AUDIO_INDEX:+--index-url "$AUDIO_INDEX"}; then
      say "torchaudio $TORCH_VERSION could not be installed; ComfyUI will start without its audio nodes."
      say "Fix: $PY -m pip install torch==$TORCH_VERSION torchaudio==$TORCH_VERSION --index-url <your torch's index>"
    fi
  fi
  "$PY" -m pip install -r "$PACK/requirements.txt" -c "$PIN"
  # makes `python -m motioncomic` (headless route, API client) work from any folder
  "$PY" -m pip install --no-deps -e "$PACK"
  # ComfyUI imports torchvision; a torchvision built for another torch fails at import with
  # "operator torchvision::nms does not exist". Say so now instead of as a ComfyUI traceback.
  if ! "$PY" -c "import torchvision" >/dev/null 2>&1; then
    say "torchvision does not import next to torch $TORCH_VERSION (their builds do not match)."
    say "Install a matching pair from one index, e.g. (CPU):"
    say "  $PY -m pip install --force-reinstall torch torchvision --index-url https://download.pytorch.org/whl/cpu"
    say "or use your CUDA index (https://pytorch.org/get-started/locally/), then run this script again."
    exit 1
  fi
fi

# 3. Link the pack into custom_nodes
BASE="${COMFYUI_BASE:-$COMFYUI_DIR}"
mkdir -p "$BASE/custom_nodes"
LINK="$BASE/custom_nodes/motioncomic"
if [ -e "$LINK" ] && [ ! -L "$LINK" ]; then
  say "$LINK exists and is not our link: leaving it alone (remove it to use this checkout)"
else
  ln -sfn "$PACK" "$LINK"
fi

MODELS="$BASE/models"
cat >&2 <<EOF

motioncomic is linked into $LINK
Model files go under $MODELS/:
  CogVideo/<name>/           CogVideoX diffusers folders (e.g. CogVideoX-5b-I2V)
  diffusion_models/, vae/, text_encoders/   single-file transformer / VAE / t5xxl_*.safetensors
  opensora/                  Open-Sora ST-DiT, VAE, T5
  insightface/, facerestore_models/, facedetection/, vfi/, LLM/

Workflows: drag a file from $PACK/workflows/ into the UI, or use the template browser.
Headless, no server needed:
  $PY -m motioncomic animate IMAGE.png "she waves" --model CogVideoX-5b-I2V --models-dir $MODELS -o out.mp4
  (installed by this script with pip install -e; with --skip-install run it once yourself)
Against this server once it runs:
  $PY -m motioncomic submit $PACK/workflows/api/<workflow>.json --server http://$HOST:$PORT --image IMAGE.png -o out/

EOF

[ "$START" = 1 ] || exit 0

ARGS=(--listen "$HOST" --port "$PORT")
[ -n "${COMFYUI_BASE:-}" ] && ARGS+=(--base-directory "$COMFYUI_BASE")
if [ "${MOTIONCOMIC_CPU:-0}" = 1 ] || { ! has_gpu && [ "$(uname)" != "Darwin" ]; }; then
  say "no NVIDIA GPU: starting with --cpu (slow; fine for tiny test models, not for real ones)"
  ARGS+=(--cpu)
fi
say "starting ComfyUI on http://$HOST:$PORT"
cd "$COMFYUI_DIR"
exec "$PY" main.py "${ARGS[@]}" ${EXTRA[@]+"${EXTRA[@]}"}
