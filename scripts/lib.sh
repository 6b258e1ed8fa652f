# Shared by scripts/start.sh and scripts/test.sh: the Python environment and system packages.
# Source it; do not run it.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO_ROOT/.venv"

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Debian packages the tests need: a browser for the journeys, PostgreSQL for the database tests.
ensure_system_packages() {
    local missing=()
    [ -x /usr/bin/chromium ] || missing+=(chromium chromium-driver)
    command -v pg_ctlcluster >/dev/null 2>&1 && ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 \
        || missing+=(postgresql)
    if [ ${#missing[@]} -gt 0 ]; then
        echo "Installing Debian packages: ${missing[*]}"
        as_root apt-get update -q
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
    fi
}

# A virtual environment with the project installed (editable) and the given extras.
# pip, not uv or poetry: only pip finds the CPU build of torch kept in this machine's wheel folder.
ensure_venv() {
    local extras="$1"
    local stamp="$VENV/.installed-$extras"
    if [ ! -x "$VENV/bin/python" ]; then
        python3 -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
        python3 -m venv "$VENV"
        "$VENV/bin/pip" install -q --upgrade pip
    fi
    if [ ! -f "$stamp" ] || [ "$REPO_ROOT/pyproject.toml" -nt "$stamp" ]; then
        echo "Installing the portal with extras [$extras]…"
        case ",$extras," in *,local,*) install_llama_cpp; install_cpu_torch ;; esac
        # compat mode puts the checkout itself on the path, so a new top-level package needs no reinstall.
        "$VENV/bin/pip" install -q -e "$REPO_ROOT[$extras]" --config-settings editable_mode=compat
        touch "$stamp"
    fi
}

# torch first, pinned to the CPU build kept in this machine's local wheel folder: asked for later by
# sentence-transformers with no pin, pip would choose a multi-gigabyte CUDA build from the index.
install_cpu_torch() {
    "$VENV/bin/pip" install -q "torch==2.13.0"
}

# llama-cpp-python compiles from source. A "native" build enables Intel AMX kernels, and on these machines
# AMX CPUs every generation then crashes (SIGSEGV in ggml_backend_amx_mul_mat, llama.cpp issue 20824), so
# build for AVX2 instead. pip's own wheel cache ignores CMAKE_ARGS and may hold a native build: build the
# wheel once into a folder of our own and install from there.
LLAMA_CPP_VERSION="0.3.36"
LLAMA_CPP_CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"
LLAMA_CPP_WHEELS="${XDG_CACHE_HOME:-$HOME/.cache}/coe-portal/llama-cpp-avx2"

install_llama_cpp() {
    if ! ls "$LLAMA_CPP_WHEELS"/llama_cpp_python-"$LLAMA_CPP_VERSION"-*.whl >/dev/null 2>&1; then
        echo "Compiling llama-cpp-python $LLAMA_CPP_VERSION for AVX2 (once per machine, about 6 minutes)…"
        mkdir -p "$LLAMA_CPP_WHEELS"
        CMAKE_ARGS="$LLAMA_CPP_CMAKE_ARGS" "$VENV/bin/pip" wheel -q --no-cache-dir --no-deps \
            -w "$LLAMA_CPP_WHEELS" "llama-cpp-python[server]==$LLAMA_CPP_VERSION"
    fi
    "$VENV/bin/pip" install -q "$(ls "$LLAMA_CPP_WHEELS"/llama_cpp_python-"$LLAMA_CPP_VERSION"-*.whl)[server]"
}

# Start Debian's PostgreSQL cluster and export a URL the tests may create databases on.
start_postgres() {
    local version
    version="$(ls /usr/lib/postgresql | sort -V | tail -1)"
    if ! pg_lsclusters -h | grep -q "^$version main"; then
        as_root pg_createcluster "$version" main >/dev/null
    fi
    pg_lsclusters -h | grep "^$version main" | grep -q online || as_root pg_ctlcluster "$version" main start
    local port
    port="$(pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" {print $3}')"
    as_root runuser -u postgres -- psql -q -p "$port" -v ON_ERROR_STOP=1 -c \
        "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'portal_test') THEN
           CREATE ROLE portal_test LOGIN SUPERUSER PASSWORD 'portal_test'; END IF; END \$\$;" >/dev/null
    export PORTAL_TEST_POSTGRES_URL="postgresql+psycopg://portal_test:portal_test@127.0.0.1:$port/postgres"
}
