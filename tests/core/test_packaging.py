"""The production image and the wheel carry every package of the portal."""

import tomllib

from tests.conftest import REPO_ROOT


def portal_packages() -> list[str]:
    """Top-level packages that exist in the checkout and that pyproject.toml ships."""
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    names = [p.rstrip("*") for p in patterns]
    return [n for n in names if (REPO_ROOT / n / "__init__.py").is_file()]


def test_the_dockerfile_copies_every_package() -> None:
    dockerfile = (REPO_ROOT / "Dockerfile").read_text(encoding="utf-8")
    packages = portal_packages()
    assert {"portal", "catalog", "sandbox"} <= set(packages)
    missing = [name for name in packages if f"COPY {name} ./{name}" not in dockerfile]
    assert missing == [], f"the Dockerfile does not copy {missing}"


def test_data_files_of_packages_are_declared() -> None:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    package_data = pyproject["tool"]["setuptools"]["package-data"]
    for package in portal_packages():
        data = [p for p in (REPO_ROOT / package).iterdir() if p.suffix in {".yaml", ".yml", ".json", ".md"}]
        if data:
            assert package in package_data, f"{package} has {[p.name for p in data]} but no package-data entry"
