"""Package discovery: every subpackage of vnn_cli is found, so a new one cannot be left out of the
wheel. The built-in plugins and the shipped weights travel inside the wheel under private names
(`package-dir` in pyproject.toml), so a top-level package called "plugins" never lands in
site-packages. Everything else is in pyproject.toml."""
from setuptools import find_packages, setup

BUILT_INS = ["vnn_cli._plugins", "vnn_cli._plugins.models", "vnn_cli._plugins.losses", "vnn_cli._weights"]

setup(packages=find_packages(include=["vnn_cli", "vnn_cli.*"]) + BUILT_INS)
