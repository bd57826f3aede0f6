"""The local Asterisk: finds or builds the binary, renders its run folder, starts and stops it."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path

import jinja2

import asterisk_conf
from crm.calls.masking import AsteriskMaskingSecrets
from crm.core.crypto import KeyRing
from dialplan.render import DialplanData, InternalExtension, render_extensions
from lexcrm.settings import Settings


class Profile(StrEnum):
    """What an instance is: the firm's PBX, or the carrier simulator standing in for the network."""

    pbx = "pbx"
    carrier = "carrier"


# Package data: an installed wheel carries them, not only a checkout.
ASTERISK_CONF = Path(asterisk_conf.__file__).resolve().parent
ASTERISK_CONF_TEMPLATES = ASTERISK_CONF / "templates"
BUILT_IN_NOTICE = ASTERISK_CONF / "sounds" / "recording-notice-ru.wav"
MASKS_FILE = "lexcrm-clients.conf"
CARRIER_INSTANCE_SUFFIX = "-carrier"
# Inside the Debian root file system every instance gets its own folder here.
CHROOT_RUN_BASE = Path("/srv/lexcrm")
# Where Debian's asterisk package puts what every instance shares read-only.
DEBIAN_MODULES_DIR = "/usr/lib/x86_64-linux-gnu/asterisk/modules"
DEBIAN_DATA_DIR = "/usr/share/asterisk"
COMMON_TEMPLATES = (
    "asterisk.conf",
    "modules.conf",
    "logger.conf",
    "manager.conf",
    "http.conf",
    "ari.conf",
    "rtp.conf",
    "cdr.conf",
    "features.conf",
    "indications.conf",
    "cdr_custom.conf",
)
PROFILE_TEMPLATES = {
    Profile.pbx: {"pjsip.conf": "pjsip.conf.j2", "queues.conf": "queues.conf.j2"},
    Profile.carrier: {
        "pjsip.conf": "carrier/pjsip.conf.j2",
        "extensions.conf": "carrier/extensions.conf.j2",
    },
}
# Configs Asterisk looks for at start and complains about when missing; their defaults suit.
EMPTY_CONFIGS = (
    "acl.conf",
    "udptl.conf",
    "pjproject.conf",
    "ccss.conf",
    "cel.conf",
    "musiconhold.conf",
    "websocket_client.conf",
    "queuerules.conf",
)
Progress = Callable[[str], None]


class AsteriskRuntimeError(Exception):
    """The local Asterisk cannot be set up or run; the message says why and what to do."""


class PortTaken(AsteriskRuntimeError):
    """A port Asterisk needs is used by another program."""


class AsteriskStartFailed(AsteriskRuntimeError):
    """Asterisk exited or did not finish booting; `log` holds the end of its logs."""

    def __init__(self, message: str, log: str) -> None:
        super().__init__(f"{message}\n--- журнал Asterisk ---\n{log}".rstrip())
        self.log = log


@dataclass(frozen=True)
class SipPhone:
    """A desk phone's PJSIP account: extension, password, name shown to colleagues."""

    extension: str
    password: str
    display_name: str
    # A member of the call-centre queue (operators).
    in_queue: bool = False
    # A fixed address instead of registration (test phones such as sipp).
    static_contact: str | None = None


@dataclass(frozen=True)
class AsteriskCredentials:
    """Generated credentials of the AMI and ARI users of one instance."""

    ami_username: str
    ami_secret: str
    ari_username: str
    ari_password: str

    @classmethod
    def load_or_create(cls, path: Path) -> AsteriskCredentials:
        if path.exists():
            return cls(**json.loads(path.read_text(encoding="utf-8")))
        credentials = cls(
            ami_username="lexcrm",
            ami_secret=secrets.token_urlsafe(24),
            ari_username="lexcrm",
            ari_password=secrets.token_urlsafe(24),
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(asdict(credentials), out)
        return credentials


@dataclass(frozen=True)
class RuntimeStatus:
    running: bool
    pid: int | None
    mode: str
    run_dir: Path
    detail: str


def _config_value(value: object) -> str:
    # Values end up inside Asterisk config lines: a newline, ';' or quote would change the
    # meaning of the file, so they are dropped instead of escaped (Asterisk has no escaping).
    return "".join(ch for ch in str(value) if ch.isprintable() and ch not in ';"\\[]')


def _templates() -> jinja2.Environment:
    environment = jinja2.Environment(  # noqa: S701 - Asterisk configs, not HTML
        loader=jinja2.FileSystemLoader(ASTERISK_CONF_TEMPLATES),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_config_value,
    )
    return environment


def _print_progress(message: str) -> None:
    print(message, flush=True)


class AsteriskRuntime:
    """One local Asterisk instance: its binary (system or chroot), run folder and process."""

    def __init__(
        self,
        settings: Settings,
        phones: Sequence[SipPhone] | None = None,
        progress: Progress = _print_progress,
        profile: Profile = Profile.pbx,
    ) -> None:
        """`phones=None` keeps the desk phones the run folder was last rendered with."""
        self.settings = settings
        self.profile = profile
        self._phones = None if phones is None else tuple(phones)
        self._firm_sip_port: int | None = None
        # The Asterisk this object started, kept so that stopping it also reaps it.
        self._process: subprocess.Popen[bytes] | None = None
        self.progress = progress
        system_binary = settings.asterisk_binary or shutil.which("asterisk")
        self.system_binary = system_binary
        self.mode = "system" if system_binary else "chroot"
        if self.mode == "system":
            self.run_dir = (settings.data_dir / "asterisk" / settings.asterisk_instance).resolve()
        else:
            self.run_dir = (
                settings.asterisk_rootfs
                / CHROOT_RUN_BASE.relative_to("/")
                / (settings.asterisk_instance)
            )

    # --- paths -------------------------------------------------------------------------
    def inner_path(self, host_path: Path) -> str:
        """A run-folder path as Asterisk sees it (inside the chroot, if there is one)."""
        if self.mode == "system":
            return str(host_path)
        return "/" + str(host_path.relative_to(self.settings.asterisk_rootfs))

    def host_path(self, inner: str) -> Path:
        """A path Asterisk reported (e.g. a recording) as this machine sees it."""
        if self.mode == "system":
            return Path(inner)
        return self.settings.asterisk_rootfs / inner.lstrip("/")

    @property
    def etc_dir(self) -> Path:
        return self.run_dir / "etc"

    @property
    def log_dir(self) -> Path:
        return self.run_dir / "log"

    @property
    def recordings_dir(self) -> Path:
        return self.run_dir / "recordings"

    @property
    def credentials_file(self) -> Path:
        return self.run_dir / "credentials.json"

    @property
    def masks_file(self) -> Path:
        """The masking table the dialplan reads with AST_CONFIG (written by the controller)."""
        return self.etc_dir / MASKS_FILE

    @property
    def cdr_file(self) -> Path:
        """Asterisk's per-leg call records as written by cdr_custom (see cdr_custom.conf.j2)."""
        return self.log_dir / "cdr-custom" / "lexcrm-cdr.csv"

    @property
    def notice_sound(self) -> Path:
        return self.run_dir / "sounds" / "recording-notice.wav"

    @property
    def phones_file(self) -> Path:
        return self.run_dir / "phones.json"

    @property
    def phones(self) -> tuple[SipPhone, ...]:
        if self._phones is None:
            if not self.phones_file.exists():
                return ()
            saved = json.loads(self.phones_file.read_text(encoding="utf-8"))
            self._phones = tuple(SipPhone(**phone) for phone in saved)
        return self._phones

    @property
    def console_log(self) -> Path:
        return self.log_dir / "console.log"

    @property
    def pid_file(self) -> Path:
        return self.run_dir / "lexcrm-asterisk.pid"

    def credentials(self) -> AsteriskCredentials:
        return AsteriskCredentials.load_or_create(self.credentials_file)

    def _command(self, *args: str) -> list[str]:
        config = self.inner_path(self.etc_dir / "asterisk.conf")
        if self.mode == "system":
            assert self.system_binary is not None
            return [self.system_binary, "-C", config, *args]
        return [
            "chroot",
            str(self.settings.asterisk_rootfs),
            "/usr/sbin/asterisk",
            "-C",
            config,
            *args,
        ]

    # --- installation ------------------------------------------------------------------
    def ensure_installed(self) -> None:
        """Make sure there is an asterisk binary: on PATH, or in the Debian unstable rootfs."""
        if self.mode == "system":
            return
        rootfs = self.settings.asterisk_rootfs
        if (rootfs / "usr/sbin/asterisk").exists():
            return
        if os.geteuid() != 0:
            raise AsteriskRuntimeError(
                "Asterisk не найден, а собрать его можно только от root "
                "(debootstrap + chroot). Запустите от root или укажите asterisk_binary."
            )
        if shutil.which("debootstrap") is None:
            raise AsteriskRuntimeError(
                "Asterisk не найден, и нет debootstrap, чтобы его собрать: "
                "apt-get install debootstrap (или укажите asterisk_binary)."
            )
        rootfs.parent.mkdir(parents=True, exist_ok=True)
        with _exclusive_lock(rootfs.parent / f".{rootfs.name}.lock"):
            if (rootfs / "usr/sbin/asterisk").exists():  # built by another process meanwhile
                return
            self._build_rootfs(rootfs)

    def _build_rootfs(self, rootfs: Path) -> None:
        partial = rootfs.with_name(rootfs.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        self.progress(f"Сборка Asterisk из Debian unstable в {rootfs} (один раз, около минуты)…")
        command = [
            "debootstrap",
            "--variant=minbase",
            "--include=asterisk",
            "sid",
            str(partial),
            self.settings.asterisk_mirror or host_debian_mirror(),
        ]
        started = time.monotonic()
        lines: list[str] = []
        with subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        ) as process:
            assert process.stdout is not None
            retrieved = 0
            for line in process.stdout:
                lines.append(line.rstrip())
                if line.startswith("I: Retrieving "):
                    retrieved += 1
                    if retrieved % 25 == 0:
                        self.progress(f"  загружено пакетов: {retrieved}")
                elif line.startswith("I: ") and not line.startswith(
                    ("I: Validating", "I: Extracting", "I: Unpacking", "I: Configuring")
                ):
                    self.progress("  " + line[3:].strip())
        if process.returncode != 0:
            tail = "\n".join(lines[-30:])
            raise AsteriskRuntimeError(
                f"debootstrap завершился с ошибкой {process.returncode}:\n{tail}"
            )
        partial.rename(rootfs)
        self.progress(f"Asterisk собран за {time.monotonic() - started:.0f} с.")

    # --- configuration -----------------------------------------------------------------
    def render(self) -> None:
        """Write every config file of the instance into its run folder."""
        for sub in (
            "etc",
            "lib",
            "lib/keys",
            "spool",
            "spool/recording",
            "run",
            "log",
            "log/cdr-custom",
            "cache",
            "recordings",
            "sounds",
        ):
            (self.run_dir / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(self.run_dir, 0o700)
        credentials = self.credentials()
        if self.mode == "system":
            modules_dir, data_dir = _system_asterisk_dirs(self.system_binary or "asterisk")
        else:
            modules_dir, data_dir = DEBIAN_MODULES_DIR, DEBIAN_DATA_DIR
        s = self.settings
        context: dict[str, object] = {
            "instance": s.asterisk_instance,
            "dirs": {
                "etc": self.inner_path(self.etc_dir),
                "lib": self.inner_path(self.run_dir / "lib"),
                "spool": self.inner_path(self.run_dir / "spool"),
                "run": self.inner_path(self.run_dir / "run"),
                "log": self.inner_path(self.log_dir),
                "cache": self.inner_path(self.run_dir / "cache"),
                "modules": modules_dir,
                "data": data_dir,
            },
            "ami_port": s.ami_port,
            "http_port": s.http_port,
            "sip_host": s.sip_host,
            # A concrete listening address is also the address of the call audio.
            "media_address": "" if s.sip_host in {"0.0.0.0", "::"} else s.sip_host,  # noqa: S104
            "sip_port": s.sip_port,
            "rtp_port_start": s.rtp_port_start,
            "rtp_port_end": s.rtp_port_end,
            "phones": self.phones,
            "ring_seconds": s.ring_seconds,
            "queue_wrapup_seconds": s.queue_wrapup_seconds,
            "firm_number_digits": s.firm_number.lstrip("+"),
            "trunk_host": s.trunk_host,
            "trunk_port": s.trunk_port,
            "trunk_username": s.trunk_username,
            "trunk_password": s.trunk_password,
            "firm_sip_host": s.trunk_host,
            "firm_sip_port": self.firm_sip_port,
            "client_talk_seconds": 4,
            **asdict(credentials),
        }
        templates = _templates()
        names = {name: name + ".j2" for name in COMMON_TEMPLATES} | PROFILE_TEMPLATES[self.profile]
        for name, template in names.items():
            _write_private(self.etc_dir / name, templates.get_template(template).render(context))
        for name in EMPTY_CONFIGS:
            if name not in names:
                _write_private(self.etc_dir / name, "; Rendered by lexcrm: defaults.\n")
        _write_private(self.phones_file, json.dumps([asdict(phone) for phone in self.phones]))
        if self.profile == Profile.pbx:
            self._render_pbx_dialplan()

    def _render_pbx_dialplan(self) -> None:
        s = self.settings
        masking = AsteriskMaskingSecrets.derive(KeyRing.load(s.key_file))
        notice = Path(s.recording_notice_file) if s.recording_notice_file else BUILT_IN_NOTICE
        if not notice.is_file():
            raise AsteriskRuntimeError(f"Файл уведомления о записи не найден: {notice}")
        shutil.copyfile(notice, self.notice_sound)
        if not self.masks_file.exists():
            # The controller fills it from the CRM; until then every caller is a new lead.
            _write_private(self.masks_file, "; Masking table, written by the lexcrm controller.\n")
        dialplan = DialplanData(
            recording_dir=self.inner_path(self.recordings_dir),
            pepper=masking.pepper,
            seal_key=masking.seal_key,
            masks_file=MASKS_FILE,
            firm_number=s.firm_number,
            firm_name=s.firm_name,
            recording_notice=s.recording_notice,
            notice_sound=self.inner_path(self.notice_sound.with_suffix("")),
            extensions=[InternalExtension(phone.extension) for phone in self.phones],
            ring_seconds=s.ring_seconds,
            queue_timeout=s.queue_timeout,
        )
        _write_private(self.etc_dir / "extensions.conf", render_extensions(dialplan))

    @property
    def firm_sip_port(self) -> int:
        """For the carrier simulator: where the firm's PBX listens (its `sip_port`)."""
        return self._firm_sip_port if self._firm_sip_port is not None else self.settings.sip_port

    # --- process -----------------------------------------------------------------------
    def pid(self) -> int | None:
        """The pid of this instance's Asterisk if it runs, else None."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except FileNotFoundError:
            return None
        config = self.inner_path(self.etc_dir / "asterisk.conf").encode()
        # A recycled pid belongs to some other program: only trust it if it is our asterisk.
        if config not in cmdline:
            return None
        return pid

    def check_ports(self) -> None:
        s = self.settings
        for label, host, port, kind in (
            ("AMI", "127.0.0.1", s.ami_port, socket.SOCK_STREAM),
            ("ARI/HTTP", "127.0.0.1", s.http_port, socket.SOCK_STREAM),
            ("SIP", s.sip_host, s.sip_port, socket.SOCK_DGRAM),
        ):
            with socket.socket(socket.AF_INET, kind) as probe:
                if kind == socket.SOCK_STREAM:
                    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    probe.bind((host, port))
                except OSError as exc:
                    if exc.errno == errno.EADDRINUSE:
                        raise PortTaken(
                            f"Порт {port} ({label}) на {host} уже занят другой программой. "
                            f"Освободите его или задайте другой порт в настройках."
                        ) from None
                    raise AsteriskRuntimeError(
                        f"Порт {port} ({label}) на {host} недоступен: {exc.strerror}"
                    ) from None

    def start(self) -> int:
        """Start the rendered instance and wait until it is fully booted; returns its pid."""
        running = self.pid()
        if running is not None:
            return running
        self.check_ports()
        self.console_log.parent.mkdir(parents=True, exist_ok=True)
        messages = self.log_dir / "messages.log"
        messages.unlink(missing_ok=True)
        with self.console_log.open("wb") as console:
            # -f: stay in the foreground of our child so that we own its pid; a new session
            # so that it outlives the `lexcrm asterisk up` command that started it.
            process = subprocess.Popen(
                self._command("-f", "-n", "-g"),
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._process = process
        self.pid_file.write_text(f"{process.pid}\n")
        deadline = time.monotonic() + self.settings.asterisk_start_timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self._process = None
                self.pid_file.unlink(missing_ok=True)
                raise AsteriskStartFailed(
                    f"Asterisk завершился при запуске (код {process.returncode}).",
                    self.log_tail(),
                )
            if self._fully_booted():
                return process.pid
            time.sleep(0.2)
        self._terminate(process.pid)
        self._reap()
        raise AsteriskStartFailed(
            f"Asterisk не запустился за {self.settings.asterisk_start_timeout:.0f} с.",
            self.log_tail(),
        )

    def _fully_booted(self) -> bool:
        try:
            result = subprocess.run(
                self._command("-rx", "core waitfullybooted"),
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return False
        return result.returncode == 0 and "fully booted" in result.stdout

    def up(self) -> int:
        """Install if needed, render, start: the one call the CLI and the tests make."""
        self.ensure_installed()
        running = self.pid()
        if running is not None:
            return running
        self.render()
        return self.start()

    def down(self, timeout: float = 15.0) -> bool:
        """Stop the instance; True if it was running."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        with contextlib.suppress(subprocess.TimeoutExpired):
            subprocess.run(
                self._command("-rx", "core stop now"),
                capture_output=True,
                timeout=10,
                check=False,
            )
        if not _wait_gone(pid, timeout):
            self._terminate(pid)
        self._reap()
        self.pid_file.unlink(missing_ok=True)
        return True

    def _reap(self) -> None:
        if self._process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(timeout=5)
            self._process = None

    def _terminate(self, pid: int) -> None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
            if _wait_gone(pid, 5.0):
                return

    def rx(self, command: str, timeout: float = 15.0) -> str:
        """Run one Asterisk CLI command in the running instance and return its output."""
        if self.pid() is None:
            raise AsteriskRuntimeError("Asterisk не запущен: lexcrm asterisk up")
        result = subprocess.run(
            self._command("-rx", command),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise AsteriskRuntimeError(f"Команда Asterisk не выполнена: {result.stderr.strip()}")
        return result.stdout

    def interactive_cli_command(self) -> list[str]:
        return self._command("-r")

    def status(self) -> RuntimeStatus:
        pid = self.pid()
        detail = ""
        if pid is not None:
            try:
                detail = self.rx("core show uptime").strip()
            except (AsteriskRuntimeError, subprocess.TimeoutExpired) as exc:
                detail = f"не отвечает: {exc}"
        return RuntimeStatus(pid is not None, pid, self.mode, self.run_dir, detail)

    def log_tail(self, lines: int = 40) -> str:
        parts = []
        for path in (self.console_log, self.log_dir / "messages.log"):
            if path.exists():
                text = path.read_text(encoding="utf-8", errors="replace").splitlines()
                if text:
                    parts.append(f"[{path.name}]\n" + "\n".join(text[-lines:]))
        return "\n".join(parts) or "(журнал пуст)"


def host_debian_mirror(sources_dir: Path = Path("/etc/apt")) -> str:
    """The Debian archive this machine's apt already uses (deb822 or one-line sources)."""
    candidates: list[str] = []
    for path in sorted(sources_dir.glob("sources.list.d/*.sources")):
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith("URIs:"):
                candidates.extend(line.split(":", 1)[1].split())
    for path in [sources_dir / "sources.list", *sorted(sources_dir.glob("sources.list.d/*.list"))]:
        if path.exists():
            for line in path.read_text(errors="replace").splitlines():
                words = [w for w in line.split() if not w.startswith("[")]
                if len(words) >= 2 and words[0] == "deb":
                    candidates.append(words[1])
    for uri in candidates:
        # The main archive, not the security one nor a third-party repository.
        if uri.rstrip("/").endswith("/debian"):
            return uri
    raise AsteriskRuntimeError(
        "Не найдено зеркало Debian в источниках apt: укажите его в настройке asterisk_mirror."
    )


def carrier_simulator(settings: Settings, progress: Progress = _print_progress) -> AsteriskRuntime:
    """The carrier simulator: a second local Asterisk on `trunk_port` that plays the network."""
    carrier_settings = settings.with_overrides(
        asterisk_instance=settings.asterisk_instance + CARRIER_INSTANCE_SUFFIX,
        ami_port=settings.simulator_ami_port,
        http_port=settings.simulator_http_port,
        sip_host=settings.trunk_host,
        sip_port=settings.trunk_port,
        # Its own slice of RTP ports, above the PBX's.
        rtp_port_start=settings.rtp_port_end + 1,
        rtp_port_end=settings.rtp_port_end + 1 + (settings.rtp_port_end - settings.rtp_port_start),
    )
    runtime = AsteriskRuntime(
        carrier_settings, phones=(), progress=progress, profile=Profile.carrier
    )
    runtime._firm_sip_port = settings.sip_port
    return runtime


def _write_private(path: Path, text: str) -> None:
    # Configs hold credentials: readable by the owner only.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)


def _system_asterisk_dirs(binary: str) -> tuple[str, str]:
    # A system Asterisk keeps modules and sounds where its build put them; the stock
    # asterisk.conf next to it says where.
    modules, data = DEBIAN_MODULES_DIR, DEBIAN_DATA_DIR
    stock = Path("/etc/asterisk/asterisk.conf")
    if stock.exists():
        for line in stock.read_text(errors="replace").splitlines():
            key, _, value = line.partition("=>")
            if key.strip() == "astmoddir":
                modules = value.strip()
            elif key.strip() == "astdatadir":
                data = value.strip()
    return modules, data


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        # Our own child stays a zombie until reaped; reaping it counts as gone.
        with contextlib.suppress(ChildProcessError):
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return True
        time.sleep(0.1)
    return False


@contextlib.contextmanager
def _exclusive_lock(path: Path) -> Iterator[None]:
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
