"""Builds and runs the C++ tests and the find_package consumer project (tests/cpp/run_cpp_tests.sh)
as one test, so the README's single test command covers both languages."""
import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_cpp_tests_and_installed_package_consumer():
    script = ROOT / "tests" / "cpp" / "run_cpp_tests.sh"
    r = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, f"C++ tests failed:\n{r.stdout[-6000:]}\n{r.stderr[-6000:]}"
