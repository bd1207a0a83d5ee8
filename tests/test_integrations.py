"""Trainer callbacks against the real libraries (skipped when lightning/transformers are absent)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from bbpfit import LayerSelection, eigenvalues  # noqa: E402
from bbpfit.store import open_spectra  # noqa: E402


@pytest.fixture(autouse=True)
def _one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _xy(n=64, d=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g)
    return x, (x[:, :2].sum(1, keepdim=True) > 0).float()


@pytest.mark.slow
def test_lightning_callback(tmp_path):
    pl = pytest.importorskip("lightning.pytorch")
    from bbpfit.recording.lightning import SpectrumCallback

    class Module(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))

        def training_step(self, batch, batch_idx):
            x, y = batch
            return nn.functional.binary_cross_entropy_with_logits(self.net(x), y)

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1)

    torch.manual_seed(0)
    module = Module()
    x, y = _xy()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=8)
    path = tmp_path / "pl.bbp"
    callback = SpectrumCallback(path, every=4, top_k_vectors=2, vectors_every=8,
                                vectors_dtype="float16")
    trainer = pl.Trainer(max_steps=20, accumulate_grad_batches=2, callbacks=[callback],
                         accelerator="cpu", logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(module, loader)
    ds = open_spectra(path)
    assert ds.step.values.tolist() == [0, 4, 8, 12, 16, 20]
    # net.2 is 1 x 16: one eigenvalue, not a spectrum (LayerSelection's min_side=2, as in analyze)
    assert ds.layer.values.tolist() == ["net.0.weight"]
    assert np.isfinite(ds.loss.sel(step=slice(4, None))).all()
    np.testing.assert_allclose(ds.lr.values, 0.1)
    np.testing.assert_allclose(ds.eigenvalues.sel(layer="net.0.weight", step=20),
                               eigenvalues(module.net[0].weight), rtol=1e-5)
    assert ds.vector_step.values.tolist() == [0, 8, 16]  # the recorder's kwargs reach it
    assert ds.attrs["vectors_dtype"] == "float16"
    assert callback.recorder is None  # closed at the end of fit
    with pytest.raises(TypeError, match="optimizer"):
        SpectrumCallback(path, optimizer=None)


@pytest.mark.slow
def test_hf_trainer_callback(tmp_path):
    transformers = pytest.importorskip("transformers")
    from bbpfit.recording.hf import SpectrumCallback

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))

        def forward(self, x, labels=None):
            out = self.net(x)
            loss = nn.functional.binary_cross_entropy_with_logits(out, labels)
            return {"loss": loss, "logits": out}

    class Data(torch.utils.data.Dataset):
        def __init__(self):
            self.x, self.y = _xy()

        def __len__(self):
            return len(self.x)

        def __getitem__(self, i):
            return {"x": self.x[i], "labels": self.y[i]}

    torch.manual_seed(0)
    model = Model()
    path = tmp_path / "hf.bbp"
    one_row = LayerSelection(min_side=1)  # also the 1 x 16 output layer (one eigenvalue)
    args = transformers.TrainingArguments(
        output_dir=str(tmp_path / "out"), max_steps=12, per_device_train_batch_size=8,
        learning_rate=0.05, lr_scheduler_type="constant", report_to="none", use_cpu=True,
        save_strategy="no", logging_strategy="no", disable_tqdm=True, seed=0,
        dataloader_num_workers=0)
    trainer = transformers.Trainer(model=model, args=args, train_dataset=Data(),
                                   callbacks=[SpectrumCallback(path, every=3, selection=one_row,
                                                              top_k_vectors=1, vectors_every=6)])
    trainer.train()
    ds = open_spectra(path)
    assert ds.step.values.tolist() == [0, 3, 6, 9, 12]
    np.testing.assert_allclose(ds.lr.values, 0.05)
    np.testing.assert_allclose(ds.eigenvalues.sel(layer="net.2.weight", step=12)[:1],
                               eigenvalues(model.net[2].weight), rtol=1e-5)
    assert ds.vector_step.values.tolist() == [0, 6, 12]
    _, _, vh = np.linalg.svd(model.net[0].weight.detach().double().numpy())
    v = ds.right_vectors.sel(layer="net.0.weight", vector_step=12, k=0).values[:8]  # 16 x 8
    assert abs(v @ vh[0]) ** 2 > 1 - 1e-6
