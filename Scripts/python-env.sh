# Sourced by the scripts that run Python with the reference packages (golden generators, peer
# benchmarks, examples). Sets ENCODER_PYTHON to the one Python they use:
#   1. $ENCODER_PYTHON when set (any interpreter or venv, e.g. one shared by several checkouts);
#   2. else <repository>/.venv/bin/python (git-ignored);
#   3. else stops with how to create that venv.
# Bash only (it uses BASH_SOURCE); sourcing it twice is harmless.
_encoder_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ -n "${ENCODER_PYTHON:-}" ]; then
  if ! command -v "$ENCODER_PYTHON" >/dev/null 2>&1; then
    echo "error: ENCODER_PYTHON=$ENCODER_PYTHON is not an executable Python; unset it to use $_encoder_root/.venv" >&2
    exit 1
  fi
elif [ -x "$_encoder_root/.venv/bin/python" ]; then
  ENCODER_PYTHON=$_encoder_root/.venv/bin/python
else
  echo "error: no Python with the reference packages: set ENCODER_PYTHON, or create the repository's venv:" >&2
  echo "  python3 -m venv $_encoder_root/.venv && $_encoder_root/.venv/bin/pip install torch sentence-transformers transformers" >&2
  echo "  (add onnxruntime onnx for Scripts/bench's ONNX Runtime peers, FP32 and int8; pyspark for Scripts/spark-pipe-example)" >&2
  exit 1
fi
export ENCODER_PYTHON
# The reference runs from local files only: never a download from the Hugging Face Hub mid-run.
export HF_HUB_OFFLINE=1
unset _encoder_root
