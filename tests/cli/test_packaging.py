"""The wheel carries what an installed lexcrm needs: every Asterisk config renders from it alone."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Run by the wheel's own code, in a process that cannot see the checkout: renders the firm's
# PBX and the carrier simulator, and prints where the packages came from.
RENDER_FROM_THE_WHEEL = """
import sys
from pathlib import Path

import asterisk_conf, dialplan, lexcrm
from crm.core.crypto import KeyRing
from lexcrm.asterisk_runtime import AsteriskRuntime, SipPhone, carrier_simulator
from lexcrm.settings import Settings

work = Path(sys.argv[1])
settings = Settings(
    data_dir=work / "var",
    key_file=work / "keys" / "lexcrm.keys",
    asterisk_rootfs=work / "rootfs",
)
KeyRing.create_file(settings.key_file)
phones = [SipPhone("1001", "secret-of-the-phone", "Оператор", in_queue=True)]
for runtime in (AsteriskRuntime(settings, phones), carrier_simulator(settings, print)):
    runtime.render()
    print(runtime.profile.value, runtime.etc_dir)
for package in (asterisk_conf, dialplan, lexcrm):
    print("from", Path(package.__file__).parent)
"""


def test_every_config_renders_from_the_built_wheel(tmp_path: Path) -> None:
    # Built from a copy of the tracked files, so the build leaves nothing in the checkout.
    source = tmp_path / "source"
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.split("\n")
    for name in filter(None, tracked):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    wheels = tmp_path / "wheels"
    build = ["wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), str(source)]
    subprocess.run(
        [sys.executable, "-m", "pip", *build],
        check=True,
        capture_output=True,
    )
    (wheel,) = wheels.glob("lexcrm-*.whl")
    installed = tmp_path / "installed"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(installed)

    work = tmp_path / "work"
    work.mkdir()
    # No asterisk on this PATH: the runtime renders for its Debian root file system.
    environment = {**os.environ, "PYTHONPATH": str(installed), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-P", "-c", RENDER_FROM_THE_WHEEL, str(work)],
        cwd=work,
        env=environment,
        check=True,
        capture_output=True,
        text=True,
    )
    lines = result.stdout.splitlines()
    origins = [Path(line.removeprefix("from ")) for line in lines if line.startswith("from ")]
    assert origins and all(installed in origin.parents for origin in origins), origins
    rendered = dict(line.split(" ", 1) for line in lines if not line.startswith("from "))
    assert set(rendered) == {"pbx", "carrier"}

    templates = ROOT / "asterisk_conf" / "templates"
    for profile, etc in rendered.items():
        configs = {path.name: path.read_text(encoding="utf-8") for path in Path(etc).iterdir()}
        wanted = {
            path.name.removesuffix(".j2")
            for path in templates.glob("*.j2")
            if profile == "pbx" or path.name not in {"queues.conf.j2"}
        } | {"extensions.conf", "pjsip.conf"}
        assert wanted <= set(configs), (profile, wanted - set(configs))
        for name, text in configs.items():
            assert "{{" not in text and "{%" not in text, (profile, name)
    pbx = Path(rendered["pbx"])
    assert "[lexcrm-internal]" in (pbx / "extensions.conf").read_text(encoding="utf-8")
    assert "1001" in (pbx / "pjsip.conf").read_text(encoding="utf-8")
    # The recording notice is package data too: the PBX's run folder has its copy.
    assert list(pbx.parent.glob("sounds/*.wav"))
