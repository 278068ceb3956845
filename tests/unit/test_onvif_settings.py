"""ONVIF probe settings, the shipped probes/onvif.yaml, and offline WSDL loading."""

from __future__ import annotations

import asyncio
from pathlib import Path

import onvif.client
import onvif.transport
import pytest

from kape_itops.errors import ConfigError, ProbeError
from kape_itops.probes.onvif.client import preload_wsdl
from kape_itops.probes.onvif.settings import DEFAULTS, OnvifSettings, load_profile, merge_settings
from kape_itops.probes.onvif.wsdl import WSDL_DIR

REPO = Path(__file__).resolve().parents[2]


def test_shipped_profile_validates_and_matches_builtin_defaults() -> None:
    assert load_profile(REPO / "probes" / "onvif.yaml") == DEFAULTS


def test_bad_profile_names_file_and_problem(tmp_path: Path) -> None:
    (tmp_path / "schema").mkdir()
    (tmp_path / "schema" / "onvif.schema.json").write_text(
        (REPO / "probes" / "schema" / "onvif.schema.json").read_text()
    )
    bad = tmp_path / "onvif.yaml"
    bad.write_text("defaults:\n  rtsp_port: 70000\n  colour: blue\n")
    with pytest.raises(ConfigError) as err:
        load_profile(bad)
    text = str(err.value)
    assert f"{bad}:2 at defaults.rtsp_port: 70000 is not valid under any" in text
    assert f"{bad}:2 at defaults: Additional properties are not allowed ('colour'" in text
    (tmp_path / "onvif.yaml").write_text("defaults: [unclosed\n")
    with pytest.raises(ConfigError, match=r"onvif.yaml:\d+: not valid YAML"):
        load_profile(bad)


def test_defaults() -> None:
    s = OnvifSettings.from_mapping({})
    assert (s.onvif_port, s.drift_warn_s, s.drift_crit_s) == (80, 5.0, 300.0)
    assert s.rtsp_port is None, "unset: the port the camera's stream URI names"
    assert s.recording == "auto" and s.save_snapshot_dir is None


def test_engine_keys_are_understood() -> None:
    s = OnvifSettings.from_mapping(
        {
            "port": 8080,
            "check_timeout_s": 30,
            "lab_ports": {"onvif": 18020, "rtsp": 15520},
            "thresholds": {"clock_drift_s": {"warn": 5, "crit": 60}},
        }
    )
    assert (s.onvif_port, s.rtsp_port, s.drift_crit_s) == (8080, None, 60.0)
    explicit = OnvifSettings.from_mapping({"rtsp_port": 8554, "lab_ports": {"rtsp": 15520}})
    assert explicit.rtsp_port == 8554


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"colour": "blue"}, "unknown key(s) colour"),
        ({"rtsp_port": 0}, "rtsp_port must be a TCP port"),
        ({"onvif_port": "80"}, "onvif_port must be a TCP port"),
        ({"timeout_s": -1}, "timeout_s must be a number"),
        ({"recording": "sometimes"}, "recording must be auto, true or false"),
        ({"thresholds": {"clock_drift_s": {"warn": "x"}}}, "thresholds.clock_drift_s.warn"),
        ({"snapshot": "big"}, "snapshot must be a mapping"),
    ],
)
def test_bad_settings(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ProbeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        OnvifSettings.from_mapping(raw)


def test_merge_is_deep() -> None:
    merged = merge_settings({"a": {"x": 1, "y": 2}, "b": 1}, {"a": {"y": 3}})
    assert merged == {"a": {"x": 1, "y": 3}, "b": 1}


def test_wsdls_load_offline_from_the_shipped_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every document the loader reads is a file in kape_itops/probes/onvif/wsdl; nothing remote."""
    loaded: list[str] = []
    original = onvif.transport.AsyncSafeTransport.load

    def record(self: object, url: str) -> bytes:
        loaded.append(url)
        return original(self, url)  # type: ignore[no-any-return]

    monkeypatch.setattr(onvif.transport.AsyncSafeTransport, "load", record)
    monkeypatch.setattr(onvif.client, "_DOCUMENT_CACHE", {})
    asyncio.run(preload_wsdl())
    names = {Path(u).name for u in loaded}
    assert {
        "devicemgmt.wsdl",
        "media.wsdl",
        "recording.wsdl",
        "onvif.xsd",
        "soap-envelope.xsd",
    } <= names
    assert all(Path(u).resolve().parent == WSDL_DIR for u in loaded), loaded
    assert not any("://" in u for u in loaded)
    shipped = {p.name for p in WSDL_DIR.iterdir() if p.suffix in {".wsdl", ".xsd"}}
    assert names == shipped
