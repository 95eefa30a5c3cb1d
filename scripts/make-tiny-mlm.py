#!/usr/bin/env python3
"""Generate augrl's tiny, randomly initialised transformer test fixtures.

Writes two models in the folder layout transformers.js 2.x loads offline
(config.json, tokenizer.json, tokenizer_config.json, onnx/*.onnx):

  OUT/tiny-bert-mlm/   BERT-style encoder with a masked-LM head.
                       Outputs `logits` [B,S,V] (fill-mask) and
                       `last_hidden_state` [B,S,H] (feature-extraction).
  OUT/tiny-marian-mt/  Encoder/decoder pair for the translation pipeline
                       (onnx/encoder_model*.onnx, onnx/decoder_model_merged*.onnx).
                       The decoder has no key/value cache: it sees only the last
                       generated token plus the mean-pooled encoder states, which is
                       all transformers.js feeds a cache-less decoder after step one.

The weights are random (fixed seed): the fixtures exist to run the real
loading / tokenising / inference code paths in tests, never to judge quality.
The vocabulary is the single-word terms of src/augment/text/lexicon.json plus
letters and digits, so fill-mask candidates are whole shopping words.

usage (Debian python3 with python3-onnx and python3-numpy, not the pyenv python):
  /usr/bin/python3 scripts/make-tiny-mlm.py test/fixtures/tiny-bert [--hidden 32 --seed 7]
Output is byte-identical for the same arguments and lexicon.
"""
import argparse
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("--hidden", type=int, default=32)
ap.add_argument("--max-pos", type=int, default=128)
ap.add_argument("--seed", type=int, default=7)
ap.add_argument("--lexicon", default=os.path.join(os.path.dirname(__file__), "..", "src", "augment", "text", "lexicon.json"))
args = ap.parse_args()
H, P = args.hidden, args.max_pos
rs = np.random.RandomState(args.seed)

# ---- vocabulary: specials, shopping words, characters, continuation pieces ----
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
lex = json.load(open(args.lexicon, encoding="utf8"))
words = set()
for group in lex["groups"]:
    for term in group:
        for w in term.split():
            if w.isalpha() and w.isascii():
                words.add(w)
for f in lex.get("fillers", []):
    words.update(w for w in f.split() if w.isalpha())
chars = list("abcdefghijklmnopqrstuvwxyz0123456789")
tokens = SPECIAL + sorted(words - set(chars)) + chars + list(".,-'&/") + ["##" + c for c in chars]
vocab = {t: i for i, t in enumerate(tokens)}
V = len(tokens)


class Graph:
    """Collects initialisers and nodes; names are prefixed per model to stay readable."""

    def __init__(self):
        self.inits, self.nodes, self.n = [], [], 0

    def param(self, name, shape, scale):
        self.inits.append(numpy_helper.from_array((rs.standard_normal(shape) * scale).astype(np.float32), name))
        return name

    def const(self, name, value):
        self.inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(self, kind, inputs, **attrs):
        self.n += 1
        out = f"{kind.lower()}_{self.n}"
        self.nodes.append(helper.make_node(kind, inputs, [out], **attrs))
        return out

    def output(self, src, name):
        self.nodes.append(helper.make_node("Identity", [src], [name]))

    def norm(self, x, name):
        g = self.const(name + "_g", np.ones(H, np.float32))
        b = self.const(name + "_b", np.zeros(H, np.float32))
        return self.op("LayerNormalization", [x, g, b], axis=-1, epsilon=1e-5)

    def linear(self, x, din, dout, name):
        w = self.param(name + "_w", (din, dout), 1 / np.sqrt(din))
        return self.op("Add", [self.op("MatMul", [x, w]), self.const(name + "_b", np.zeros(dout, np.float32))])

    def save(self, path, inputs, outputs, name):
        g = helper.make_graph(self.nodes, name, inputs, outputs, self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], producer_name="augrl make-tiny-mlm.py")
        m.ir_version = 8
        onnx.checker.check_model(m)
        onnx.save(m, path)


def ids_input(name):
    return helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "seq"])


def embed(g, ids, table):
    """Token plus learned position embeddings, layer-normalised: [B,S,H]."""
    length = g.op("Gather", [g.op("Shape", [ids]), g.const("one", np.array(1, np.int64))], axis=0)
    pos = g.op("Range", [g.const("zero", np.array(0, np.int64)), length, "one"])
    x = g.op("Add", [g.op("Gather", [table, ids]), g.op("Gather", [g.param("pos", (P, H), 0.1), pos])])
    return x


def mask_bias(g, mask):
    """attention_mask [B,S] -> additive bias [B,1,S] (0 keep, -1e4 drop)."""
    m = g.op("Unsqueeze", [g.op("Cast", [mask], to=TensorProto.FLOAT), g.const("ax1", np.array([1], np.int64))])
    return g.op("Mul", [g.op("Sub", [m, g.const("onef", np.array(1.0, np.float32))]), g.const("big", np.array(1e4, np.float32))])


def save_json(path, obj):
    with open(path, "w", encoding="utf8") as f:
        json.dump(obj, f, indent=1, ensure_ascii=False, sort_keys=True)
        f.write("\n")


def tokenizer_files(folder, post):
    added = [{"id": vocab[t], "content": t, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for t in SPECIAL]
    tok = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": None, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": post,
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": vocab},
    }
    save_json(os.path.join(folder, "tokenizer.json"), tok)
    save_json(os.path.join(folder, "tokenizer_config.json"), {
        "tokenizer_class": "BertTokenizer", "do_lower_case": True, "model_max_length": P,
        "cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]", "unk_token": "[UNK]",
        "mask_token": "[MASK]", "clean_up_tokenization_spaces": True})


def special(t):
    return {"SpecialToken": {"id": t, "type_id": 0}}


def seq(t=0):
    return {"Sequence": {"id": "A", "type_id": t}}


# ---------------- tiny-bert-mlm ----------------
def build_mlm(folder):
    g = Graph()
    table = g.param("word_emb", (V, H), 0.5)
    x = g.op("Add", [embed(g, "input_ids", table), g.op("Gather", [g.param("type_emb", (2, H), 0.1), "token_type_ids"])])
    x = g.norm(x, "emb_ln")
    # One single-head self-attention block, then a ReLU feed-forward block (post-norm).
    q, k, v = (g.linear(x, H, H, n) for n in ("q", "k", "v"))
    scores = g.op("Mul", [g.op("MatMul", [q, g.op("Transpose", [k], perm=[0, 2, 1])]), g.const("scale", np.array(1 / np.sqrt(H), np.float32))])
    probs = g.op("Softmax", [g.op("Add", [scores, mask_bias(g, "attention_mask")])], axis=-1)
    x = g.norm(g.op("Add", [x, g.linear(g.op("MatMul", [probs, v]), H, H, "attn_out")]), "attn_ln")
    ff = g.linear(g.op("Relu", [g.linear(x, H, 2 * H, "ff_in")]), 2 * H, H, "ff_out")
    hidden = g.norm(g.op("Add", [x, ff]), "ff_ln")
    g.output(hidden, "last_hidden_state")
    # MLM head tied to the input embeddings: logits = norm(relu(hW)) E^T + b.
    head = g.norm(g.op("Relu", [g.linear(hidden, H, H, "mlm_dense")]), "mlm_ln")
    bias = np.zeros(V, np.float32)
    bias[[vocab[t] for t in SPECIAL]] = -30.0  # never predict special tokens
    logits = g.op("Add", [g.op("MatMul", [head, g.op("Transpose", [table], perm=[1, 0])]), g.const("mlm_bias", bias)])
    g.output(logits, "logits")
    os.makedirs(os.path.join(folder, "onnx"), exist_ok=True)
    ins = [ids_input(n) for n in ("input_ids", "attention_mask", "token_type_ids")]
    outs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", "seq", V]),
            helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "seq", H])]
    # transformers.js loads onnx/model_quantized.onnx by default; both files hold the same fp32 graph.
    for name in ("model.onnx", "model_quantized.onnx"):
        g.save(os.path.join(folder, "onnx", name), ins, outs, "tiny_bert_mlm")
    save_json(os.path.join(folder, "config.json"), {
        "model_type": "bert", "architectures": ["BertForMaskedLM"], "vocab_size": V, "hidden_size": H,
        "num_hidden_layers": 1, "num_attention_heads": 1, "intermediate_size": 2 * H,
        "max_position_embeddings": P, "type_vocab_size": 2, "pad_token_id": 0,
        "_comment": f"augrl test fixture: RANDOM weights (seed {args.seed}), not pretrained"})
    pair = [special("[CLS]"), seq(), special("[SEP]"), {"Sequence": {"id": "B", "type_id": 1}},
            {"SpecialToken": {"id": "[SEP]", "type_id": 1}}]
    tokenizer_files(folder, {"type": "TemplateProcessing", "single": [special("[CLS]"), seq(), special("[SEP]")], "pair": pair,
                             "special_tokens": {t: {"id": t, "ids": [vocab[t]], "tokens": [t]} for t in ("[CLS]", "[SEP]")}})


# ---------------- tiny-marian-mt ----------------
def build_mt(folder):
    os.makedirs(os.path.join(folder, "onnx"), exist_ok=True)
    enc = Graph()
    x = enc.norm(embed(enc, "input_ids", enc.param("src_emb", (V, H), 0.5)), "enc_ln")
    enc.output(enc.op("Tanh", [enc.linear(x, H, H, "enc_proj")]), "last_hidden_state")
    enc_ins = [ids_input("input_ids"), ids_input("attention_mask")]
    enc_outs = [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "seq", H])]
    for name in ("encoder_model.onnx", "encoder_model_quantized.onnx"):
        enc.save(os.path.join(folder, "onnx", name), enc_ins, enc_outs, "tiny_marian_encoder")

    dec = Graph()
    # Masked mean of the encoder states: [B,1,H]; the source text steers every step.
    m = dec.op("Unsqueeze", [dec.op("Cast", ["encoder_attention_mask"], to=TensorProto.FLOAT), dec.const("ax2", np.array([2], np.int64))])
    summed = dec.op("ReduceSum", [dec.op("Mul", ["encoder_hidden_states", m]), dec.const("ax1", np.array([1], np.int64))], keepdims=1)
    count = dec.op("ReduceSum", [m, "ax1"], keepdims=1)
    ctx = dec.op("Div", [summed, dec.op("Max", [count, dec.const("onef", np.array(1.0, np.float32))])])
    y = dec.op("Add", [dec.op("Gather", [dec.param("tgt_emb", (V, H), 0.5), "input_ids"]), dec.linear(ctx, H, H, "ctx_proj")])
    y = dec.op("Tanh", [dec.linear(dec.norm(y, "dec_ln"), H, H, "dec_proj")])
    bias = np.zeros(V, np.float32)
    bias[[vocab[t] for t in SPECIAL if t != "[SEP]"]] = -30.0
    bias[[i for t, i in vocab.items() if t.startswith("##") or len(t) == 1]] = -8.0  # prefer whole words
    bias[vocab["[SEP]"]] = -1.0
    logits = dec.op("Add", [dec.op("MatMul", [y, dec.param("out_w", (H, V), 2.0)]), dec.const("out_b", bias)])
    dec.output(logits, "logits")
    dec_ins = [ids_input("input_ids"), ids_input("encoder_attention_mask"),
               helper.make_tensor_value_info("encoder_hidden_states", TensorProto.FLOAT, ["batch", "src_seq", H])]
    dec_outs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", "seq", V])]
    for name in ("decoder_model_merged.onnx", "decoder_model_merged_quantized.onnx"):
        dec.save(os.path.join(folder, "onnx", name), dec_ins, dec_outs, "tiny_marian_decoder")

    # decoder_layers = 0 tells transformers.js there is no key/value cache to feed.
    save_json(os.path.join(folder, "config.json"), {
        "model_type": "marian", "architectures": ["MarianMTModel"], "is_encoder_decoder": True,
        "vocab_size": V, "d_model": H, "encoder_layers": 1, "decoder_layers": 0,
        "encoder_attention_heads": 1, "decoder_attention_heads": 1, "max_position_embeddings": P,
        "pad_token_id": vocab["[PAD]"], "eos_token_id": vocab["[SEP]"], "decoder_start_token_id": vocab["[PAD]"],
        "forced_eos_token_id": vocab["[SEP]"], "max_length": 12, "num_beams": 1,
        "_comment": f"augrl test fixture: RANDOM weights (seed {args.seed}), not a translation model"})
    tokenizer_files(folder, {"type": "TemplateProcessing", "single": [seq(), special("[SEP]")],
                             "pair": [seq(), {"Sequence": {"id": "B", "type_id": 0}}, special("[SEP]")],
                             "special_tokens": {"[SEP]": {"id": "[SEP]", "ids": [vocab["[SEP]"]], "tokens": ["[SEP]"]}}})


build_mlm(os.path.join(args.out, "tiny-bert-mlm"))
build_mt(os.path.join(args.out, "tiny-marian-mt"))
print(f"wrote {args.out}: vocab={V} hidden={H}")
