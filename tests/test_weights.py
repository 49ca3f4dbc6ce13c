"""The weights registry (vp3d.lifter.weights): the shipped file is the one it describes, the model card's
metrics table says what the registry says, and official files are known by name."""

import os
import re
from pathlib import Path

import pytest

from vp3d.lifter.weights import WEIGHTS_DIR, LifterWeights, default_checkpoint

CARD = WEIGHTS_DIR / "MODEL_CARD.md"
NOISE = {"detector-like noise": "noisy 2D", "clean": "clean 2D"}


def test_the_shipped_default_is_the_file_the_registry_describes():
    weights = LifterWeights.DEFAULT.value
    assert LifterWeights.DEFAULT is LifterWeights.VP3D_CMU_H36M17_243F and not weights.official
    assert weights.path.is_file(), f"shipped weights missing: {weights.path}"
    assert weights.verify(weights.path) is True
    assert CARD.read_text().splitlines()[0].startswith(f"# {weights.file} ")


def test_default_checkpoint_is_the_registry_default_unless_vp3d_weights_says_otherwise(monkeypatch):
    monkeypatch.delenv("VP3D_WEIGHTS", raising=False)
    assert default_checkpoint() == LifterWeights.DEFAULT.value.path
    monkeypatch.setenv("VP3D_WEIGHTS", os.devnull)
    assert default_checkpoint() == Path(os.devnull)


def test_model_card_metrics_table_agrees_with_the_registry():
    """Rows of the shipped model (epoch 32) in MODEL_CARD.md's validation table: P1, P2, MPJVE per 2D input."""
    rows = re.findall(r"^\| 243 frames \(shipped\), epoch \d+ \| ([^|]+) \| ([^|]+) \| ([^|]+) \| ([^|]+) \|$",
                      CARD.read_text(), re.M)
    assert len(rows) == 2
    card = {}
    for noise, *values in rows:
        for metric, value in zip(("P1 (mm)", "P2 (mm)", "MPJVE (mm/frame)"), values):
            card[f"{metric}, {NOISE[noise.strip()]}"] = float(value.strip().strip("*"))
    assert card == LifterWeights.DEFAULT.value.metrics


@pytest.mark.parametrize("name, layout", [("pretrained_h36m_cpn.bin", "h36m"), ("my-cpn-ft-243-dbb.bin", "h36m"),
                                          ("pretrained_h36m_detectron_coco.bin", "coco"),
                                          ("pretrained_humaneva15_detectron.bin", "coco")])
def test_official_files_are_known_by_name(name, layout):
    known = LifterWeights.identify(Path("/somewhere") / name, official_only=True)
    assert known is not None and known.value.official and known.value.input_layout == layout


def test_other_names_are_not_claimed():
    assert LifterWeights.identify("model.bin") is None
    assert LifterWeights.identify("vp3d_cmu_h36m17_243f.bin", official_only=True) is None
    assert all(w.value.receptive_field > 0 and w.value.licence and w.value.training_data for w in LifterWeights)


def test_the_published_causal_file_is_known_as_causal():
    known = LifterWeights.identify("downloads/cpn-ft-243-dbb-causal.bin", official_only=True)
    assert known is LifterWeights.CPN_FT_243_DBB_CAUSAL and known.value.causal
    assert not LifterWeights.identify("cpn-ft-243-dbb.bin", official_only=True).value.causal
