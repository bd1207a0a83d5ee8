"""The Hugging Face callback stores the Trainer's logged loss with the recorded spectra.

A tiny ``BertForSequenceClassification`` built from a ``BertConfig`` (no download) is trained for
a few steps by ``transformers.Trainer``; the store's ``loss`` must be exactly the ``loss`` the
Trainer logged at each recorded step (its ``log_history``), NaN where it logged none.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from bbpfit import eigenvalues  # noqa: E402
from bbpfit.recording.hf import SpectrumCallback  # noqa: E402
from bbpfit.store import open_spectra  # noqa: E402


class _Tokens(torch.utils.data.Dataset):
    """Random token sequences; the label says whether token 7 occurs."""

    def __init__(self, n=64, length=12, vocab=50, seed=0):
        g = torch.Generator().manual_seed(seed)
        self.ids = torch.randint(1, vocab, (n, length), generator=g)
        self.labels = (self.ids == 7).any(dim=1).long()

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "attention_mask": torch.ones_like(self.ids[i]),
                "labels": self.labels[i]}


def _train(tmp_path, *, every, logging_steps, max_steps=12, strategy="steps", **callback_kwargs):
    torch.set_num_threads(1)
    torch.manual_seed(0)
    config = transformers.BertConfig(vocab_size=50, hidden_size=32, num_hidden_layers=2,
                                     num_attention_heads=2, intermediate_size=64,
                                     max_position_embeddings=16, num_labels=2)
    model = transformers.BertForSequenceClassification(config)
    path = tmp_path / f"bert-{logging_steps}.bbp"
    args = transformers.TrainingArguments(
        output_dir=str(tmp_path / "out"), max_steps=max_steps, per_device_train_batch_size=8,
        learning_rate=1e-3, lr_scheduler_type="constant", report_to="none", use_cpu=True,
        save_strategy="no", logging_strategy=strategy, logging_steps=logging_steps,
        disable_tqdm=True, seed=0, dataloader_num_workers=0)
    trainer = transformers.Trainer(model=model, args=args, train_dataset=_Tokens(),
                                   callbacks=[SpectrumCallback(path, every=every,
                                                               **callback_kwargs)])
    trainer.train()
    logged = {h["step"]: h["loss"] for h in trainer.state.log_history if "loss" in h}
    return open_spectra(path), logged, model


@pytest.mark.slow
def test_loss_is_the_logged_loss(tmp_path):
    ds, logged, model = _train(tmp_path, every=3, logging_steps=3)
    assert ds.step.values.tolist() == [0, 3, 6, 9, 12]
    assert sorted(logged) == [3, 6, 9, 12]
    loss = ds.loss.values
    assert np.isnan(loss[0])  # before training: nothing logged
    np.testing.assert_array_equal(loss[1:], [logged[s] for s in (3, 6, 9, 12)])
    assert np.all(np.isfinite(loss[1:])) and np.all(loss[1:] > 0)
    np.testing.assert_allclose(ds.lr.values, 1e-3)
    name = "bert.encoder.layer.1.intermediate.dense.weight"
    np.testing.assert_allclose(ds.eigenvalues.sel(layer=name, step=12)[:64],
                               eigenvalues(model.get_parameter(name)), rtol=1e-5)


@pytest.mark.slow
def test_recorded_steps_are_logged_whatever_logging_steps(tmp_path):
    ds, logged, _ = _train(tmp_path, every=3, logging_steps=500)  # the Trainer's default
    assert sorted(logged) == [3, 6, 9, 12]  # the callback asked for these logs
    np.testing.assert_array_equal(ds.loss.values[1:], [logged[s] for s in (3, 6, 9, 12)])
    ds, logged, _ = _train(tmp_path / "no", every=3, logging_steps=500, strategy="no")
    assert not logged and np.all(np.isnan(ds.loss.values))  # "no logging" is respected
    with pytest.raises(TypeError, match="log_loss"):
        SpectrumCallback(tmp_path / "x", log_loss="yes")


@pytest.mark.slow
def test_steps_without_a_log_keep_nan_and_the_right_weights(tmp_path):
    ds, logged, model = _train(tmp_path, every=3, logging_steps=6, log_loss=False)
    assert ds.step.values.tolist() == [0, 3, 6, 9, 12]
    loss = dict(zip(ds.step.values.tolist(), ds.loss.values.tolist(), strict=True))
    assert np.isnan(loss[3]) and np.isnan(loss[9])
    assert loss[6] == logged[6] and loss[12] == logged[12]
    # the step-9 record was taken at the start of step 10: still the weights after step 9,
    # which differ from the final ones
    name = "bert.encoder.layer.0.attention.self.query.weight"
    lam9 = ds.eigenvalues.sel(layer=name, step=9).values[:32]
    lam12 = ds.eigenvalues.sel(layer=name, step=12).values[:32]
    np.testing.assert_allclose(lam12, eigenvalues(model.get_parameter(name)), rtol=1e-5)
    assert not np.allclose(lam9, lam12, rtol=1e-6)
