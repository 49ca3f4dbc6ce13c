"""The weights registry (vp3d.lifter.weights): the shipped file is the one it describes, the model card says what
the registry says, files are known by their whole name, and a file must hold what its name claims."""

import os
import shutil
import warnings
from pathlib import Path

import pytest
import torch
from conftest import small_model, write_official

from vp3d.lifter.checkpoint import load_checkpoint, save_checkpoint
from vp3d.lifter.errors import CheckpointError
from vp3d.lifter.model import TemporalModel
from vp3d.lifter.model_card import CARD, card_block, parameter_count, registry_block
from vp3d.lifter.weights import LifterWeights, WeightsMismatchWarning, default_checkpoint

import re

SHIPPED = LifterWeights.DEFAULT.value


def test_the_shipped_default_is_the_file_the_registry_describes():
    assert LifterWeights.DEFAULT is LifterWeights.VP3D_CMU_H36M17_243F and not SHIPPED.official
    assert SHIPPED.path.is_file(), f"shipped weights missing: {SHIPPED.path}"
    assert SHIPPED.verify(SHIPPED.path) is True
    assert CARD.read_text().splitlines()[0].startswith(f"# {SHIPPED.file} ")
    meta = load_checkpoint(SHIPPED.path).meta
    assert (meta.filter_widths, meta.channels, meta.num_joints_in, meta.num_joints_out) == (
        SHIPPED.architecture.filter_widths, SHIPPED.architecture.channels, 17, 17)
    assert (meta.input_layout, meta.causal, meta.fps) == (SHIPPED.input_layout, SHIPPED.causal, SHIPPED.fps)


def test_the_shipped_causal_weights_are_the_file_the_registry_describes():
    causal = LifterWeights.DEFAULT_CAUSAL.value
    assert causal.causal and causal.path.is_file() and causal.verify(causal.path) is True
    meta = load_checkpoint(causal.path).meta
    assert (meta.causal, meta.filter_widths, meta.channels, meta.input_layout) == (
        True, causal.architecture.filter_widths, causal.architecture.channels, causal.input_layout)


def test_default_checkpoint_is_the_registry_default_unless_vp3d_weights_says_otherwise(monkeypatch):
    monkeypatch.delenv("VP3D_WEIGHTS", raising=False)
    assert default_checkpoint() == SHIPPED.path
    monkeypatch.setenv("VP3D_WEIGHTS", os.devnull)
    assert default_checkpoint() == Path(os.devnull)


def test_the_model_cards_registry_block_is_rendered_from_the_registry():
    """Regenerate with `.venv/bin/python -m vp3d.lifter.model_card` after changing the registry."""
    assert card_block(CARD.read_text()) == registry_block(SHIPPED)


def test_the_model_cards_architecture_row_agrees_with_the_registry():
    row = next(line for line in CARD.read_text().splitlines() if line.startswith("| Architecture | VideoPose3D"))
    arch = SHIPPED.architecture
    assert f"filter widths {','.join(map(str, arch.filter_widths))} ({arch.receptive_field}-frame" in row
    assert f"{arch.channels} channels" in row and f"{parameter_count(SHIPPED):,} parameters" in row
    assert f"{arch.num_joints_in} -> {arch.num_joints_out} joints" in row and "symmetric (not causal)" in row


def test_the_model_cards_validation_table_agrees_with_the_registry():
    """The shipped version's column of MODEL_CARD.md's first table (P1 / P2 / MPJVE on both validation sets, as
    bench/lifter_report.py prints them) holds the registry's metrics."""
    rows = {}
    for name, values in re.findall(r"^\| (CMU 02\+135|bandai2)[^|]* \| [^|]+ \| ([^|]+) \|$", CARD.read_text(), re.M):
        rows.setdefault(name, values)  # the first table's row; earlier versions' tables follow it
    assert set(rows) == {"CMU 02+135", "bandai2"}
    card = {}
    for name, values in rows.items():
        prefix = "" if name.startswith("CMU") else "bandai2 "
        for metric, value in zip(("P1 (mm)", "P2 (mm)", "MPJVE (mm/frame)"), values.split("/")):
            card[f"{metric}, {prefix}noisy 2D"] = float(value.strip().strip("*"))
    assert card == SHIPPED.metrics


def test_parameter_counts_are_the_papers():
    assert parameter_count(LifterWeights.PRETRAINED_H36M_CPN.value) == 16_952_371
    assert parameter_count(SHIPPED) == 16_952_371  # version 6 on (causal: 5 on): the paper's width
    assert parameter_count(LifterWeights.DEFAULT_CAUSAL.value) == 16_952_371


@pytest.mark.parametrize("name, layout", [("pretrained_h36m_cpn.bin", "h36m"), ("cpn-ft-243-dbb.bin", "h36m"),
                                          ("Pretrained_H36M_CPN.bin", "h36m"),
                                          ("pretrained_h36m_detectron_coco.bin", "coco"),
                                          ("pretrained_humaneva15_detectron.bin", "coco")])
def test_official_files_are_known_by_their_whole_name(name, layout):
    known = LifterWeights.identify(Path("/somewhere") / name)
    assert known is not None and known.value.official and known.value.input_layout == layout


@pytest.mark.parametrize("name", ["model.bin", "my-cpn-ft-243-dbb.bin", "pretrained_h36m_cpn (1).bin",
                                  "cpn-ft-243-dbb-causal.bin.bak"])
def test_a_name_that_only_contains_a_known_one_claims_nothing(name):
    assert LifterWeights.identify(name) is None


def test_every_entry_describes_itself():
    assert all(w.value.receptive_field > 0 and w.value.licence and w.value.training_data for w in LifterWeights)
    assert LifterWeights.identify("downloads/cpn-ft-243-dbb-causal.bin").value.causal
    assert not LifterWeights.identify("cpn-ft-243-dbb.bin").value.causal
    assert LifterWeights.identify("pretrained_humaneva15_detectron.bin").value.receptive_field == 27


def test_a_file_with_the_published_architecture_loads_under_the_published_name(tmp_path):
    model = TemporalModel(17, 2, 15, (3, 3, 3), causal=False, dropout=0.25, channels=1024)
    ckpt = load_checkpoint(write_official(tmp_path / "pretrained_humaneva15_detectron.bin", model))
    assert ckpt.meta.input_layout == "coco" and ckpt.meta.receptive_field == 27 and ckpt.meta.num_joints_out == 15


def test_a_published_name_on_weights_of_another_receptive_field_is_refused_in_one_line(tmp_path):
    path = write_official(tmp_path / "pretrained_h36m_cpn.bin", small_model(widths=(3, 3)))
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path)
    message = str(err.value)
    assert message.startswith(f"{path}: named like the known weights pretrained_h36m_cpn.bin") and "\n" not in message
    assert "has filter widths 3,3 (9 frames), not 3,3,3,3,3 (243 frames)" in message
    assert "cannot be that file" in message and "--input-layout" in message
    assert load_checkpoint(shutil.copy(path, tmp_path / "mine.bin"), input_layout="h36m").meta.receptive_field == 9


def test_a_published_name_on_narrower_weights_warns_and_keeps_the_names_layout_and_causality(tmp_path):
    path = write_official(tmp_path / "cpn-ft-243-dbb-causal.bin", small_model(causal=True))  # 16 channels
    with pytest.warns(WeightsMismatchWarning, match="has 16 channels, not 1024: not that file"):
        meta = load_checkpoint(path).meta
    assert meta.causal and meta.input_layout == "h36m"


def test_the_shipped_name_needs_the_shipped_kind_of_file(tmp_path):
    official_layout = write_official(tmp_path / SHIPPED.file, small_model(widths=(3, 3, 3, 3, 3)))
    with pytest.raises(CheckpointError, match="lacks the vp3d metadata"):
        load_checkpoint(official_layout)
    meta = load_checkpoint(SHIPPED.path).meta
    meta.input_layout = "coco"
    stating_coco = tmp_path / "other" / SHIPPED.file
    stating_coco.parent.mkdir()
    save_checkpoint(stating_coco, meta, meta.build_model())
    with pytest.raises(CheckpointError, match="states input layout 'coco', not 'h36m'"):
        load_checkpoint(stating_coco)


def test_the_shipped_name_on_retrained_weights_of_its_architecture_warns_and_loads(tmp_path):
    ckpt = load_checkpoint(SHIPPED.path)
    with torch.no_grad():
        ckpt.model_pos.shrink.bias.add_(0.01)
    retrained = tmp_path / SHIPPED.file
    save_checkpoint(retrained, ckpt.meta, ckpt.model_pos, half=True)
    with pytest.warns(WeightsMismatchWarning, match="SHA-256 is not theirs") as caught:
        assert load_checkpoint(retrained).meta.channels == SHIPPED.architecture.channels
    assert len(caught) == 1 and caught[0].filename == str(retrained)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_checkpoint(SHIPPED.path)  # the shipped file itself: silent


def test_the_shipped_blazepose_lite_model_is_the_one_its_card_and_code_name():
    import hashlib

    from vp3d.detectors.blazepose_lite import LITE_FILE, LITE_SHA256
    from vp3d.shipped_files import WEIGHTS_DIR
    assert hashlib.sha256((WEIGHTS_DIR / LITE_FILE).read_bytes()).hexdigest() == LITE_SHA256
    card = (WEIGHTS_DIR / "BLAZEPOSE_LITE.md").read_text()
    assert LITE_SHA256 in card and "Apache-2.0" in card and LITE_FILE in card
