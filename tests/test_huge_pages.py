"""Large tensors on transparent huge pages: the `vnn` process asks torch for them before torch
loads, a user's own setting stands, and where the kernel allows them a large tensor made and freed
again and again costs far fewer page faults (what made RIFE's pairs slower: docs/speed.md)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from vnn_cli.cli.app import main
from vnn_cli.core.huge_pages import ENV, kernel_mode

# Ten 64 MiB tensors made, written and freed in turn (glibc maps each afresh): the page faults.
FAULTS = """
import resource, torch
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    x = torch.empty(64 * 2**20, dtype=torch.uint8)
    x.fill_(1)
    del x
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def test_the_cli_asks_for_huge_pages_unless_the_user_said_no(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    with pytest.raises(SystemExit):
        main(["--version"])
    assert os.environ[ENV] == "1"
    monkeypatch.setenv(ENV, "0")
    with pytest.raises(SystemExit):
        main(["--version"])
    assert os.environ[ENV] == "0"


@pytest.mark.skipif(kernel_mode() not in ("always", "madvise"), reason="the kernel gives no transparent huge pages")
def test_huge_pages_cut_the_page_faults_of_large_tensors():
    faults = {}
    for setting in ("0", "1"):
        done = subprocess.run([sys.executable, "-c", FAULTS], env={**os.environ, ENV: setting},
                              capture_output=True, text=True, check=True)
        faults[setting] = int(done.stdout.split()[-1])
    # 4 KiB pages: 16,384 faults a tensor; 2 MiB pages: 32.
    assert faults["1"] * 4 < faults["0"], faults
