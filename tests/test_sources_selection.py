"""Which tensors count as layers: the LayerSelection rule, category by category, and its options."""

import numpy as np
import pytest

from bbpfit.sources import LayerSelection, TensorInfo, iter_layers, list_layers


def info(name, shape, dtype="float32", **kw):
    return TensorInfo(name, shape, dtype, dtype.startswith(("float", "bfloat")), **kw)


@pytest.mark.parametrize(("tensor", "category"), [
    (info("fc.bias", (64,)), "vector"),
    (info("ln.weight", (64,)), "vector"),
    (info("embeddings.position_ids", (1, 512), "int64"), "non-float"),
    (info("cls_token", (1, 1, 384)), "small"),
    (info("head.weight", (1, 64)), "small"),
    (info("bert.embeddings.word_embeddings.weight", (30522, 384)), "embedding"),
    (info("transformer.wte.weight", (50257, 768)), "embedding"),
    (info("transformer.wpe.weight", (1024, 768)), "embedding"),
    (info("model.embed_tokens.weight", (32000, 64)), "embedding"),
    (info("tok_emb.weight", (65, 64)), "embedding"),
    (info("emb_layer.weight", (65, 64)), "embedding"),
    (info("lm_head.weight", (32000, 64), aliases=("model.embed_tokens.weight",)), "embedding"),
    (info("rel.weight", (32, 8), embedding=True), "embedding"),
    (info("layers.0.mixer.A_log", (64, 16)), "other"),
    (info("blocks.0.attn.relative_position_bias_table", (169, 4)), "other"),
    (info("proj.weight", (8, 8), buffer=True), "other"),
    (info("encoder.0.fc.weight", (1536, 384)), "weight"),
    (info("attn.in_proj_weight", (192, 64)), "weight"),
    (info("lstm.weight_ih_l0", (128, 32)), "weight"),
    (info("model.dense.kernel", (32, 16)), "weight"),
    (info("W1", (32, 16)), "weight"),
    (info("attn.W_in", (32, 16)), "weight"),
    (info("w", (32, 16)), "weight"),
    (info("mixer", (8, 8)), "other"),
    (info("A", (8, 8)), "other"),
    (info("wide", (8, 8)), "other"),
    (info("conv.weight", (16, 3, 3, 3)), "weight"),
    (info("conv1d.weight", (16, 1, 5)), "weight"),
])
def test_categories(tensor, category):
    assert LayerSelection().category(tensor) == category
    assert LayerSelection().selects(tensor) == (category == "weight")


def test_options_add_embeddings_and_others_but_never_vectors():
    emb, other = info("wte.weight", (100, 8)), info("x.A_log", (8, 4))
    vec, ints = info("fc.bias", (8,)), info("ids", (2, 8), "int64")
    assert LayerSelection(embeddings=True).selects(emb)
    assert not LayerSelection(embeddings=True).selects(other)
    assert LayerSelection(others=True).selects(other)
    everything = LayerSelection(embeddings=True, others=True, min_side=1)
    assert not everything.selects(vec) and not everything.selects(ints)
    assert everything.selects(info("cls_token", (1, 1, 8)))


def test_min_side_reads_conv_kernels_as_out_by_in_times_k():
    conv = info("conv.weight", (4, 3, 3, 3))  # matrix (4, 27)
    assert LayerSelection(min_side=4).selects(conv)
    assert not LayerSelection(min_side=5).selects(conv)
    assert conv.matrix_shape == (4, 27) and conv.size == 108


def test_include_and_exclude_globs():
    names = ["enc.0.q.weight", "enc.0.k.weight", "enc.1.q.weight", "pooler.dense.weight"]
    state = {n: np.ones((3, 3)) + np.eye(3) for n in names}
    assert [n for n, _ in iter_layers(state, include="enc.*")] == names[:3]
    assert [n for n, _ in iter_layers(state, include=["*.q.*"], exclude="enc.1.*")] == ["enc.0.q.weight"]
    assert [n for n, _ in iter_layers(state, exclude=("enc.*",))] == ["pooler.dense.weight"]
    sel = LayerSelection(include="enc.0.*")
    assert sel.include == ("enc.0.*",)
    assert [t.name for t in list_layers(state, selection=sel)] == names[:2]


def test_bad_options_raise_naming_the_parameter():
    with pytest.raises(ValueError, match="`min_side` must be >= 1"):
        LayerSelection(min_side=0)
    with pytest.raises(TypeError, match="`include` must contain strings"):
        LayerSelection(include=[1])
    with pytest.raises(TypeError, match="`exclude` must be a glob string"):
        LayerSelection(exclude=3)
    with pytest.raises(TypeError, match="`embeddings` must be True or False"):
        LayerSelection(embeddings="yes")
    with pytest.raises(TypeError, match="either `selection` or the keyword options"):
        iter_layers({"w": np.eye(3)}, selection=LayerSelection(), embeddings=True)
    with pytest.raises(TypeError, match="`selection` must be a LayerSelection"):
        iter_layers({"w": np.eye(3)}, selection={"embeddings": True})
    with pytest.raises(TypeError, match="unexpected keyword"):
        list_layers({"w": np.eye(3)}, embedings=True)
