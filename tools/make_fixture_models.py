#!/usr/bin/python3
"""Write the TorchScript fixtures the tests import, with Debian's python3-torch/torchvision.

    /usr/bin/python3 tools/make_fixture_models.py OUT_DIR [--set small|torchvision|bad|all]

Nothing here is committed: tests call this at test time and write into the build tree.
Weights are random with a fixed seed; BatchNorm statistics are randomised too so that BN
folding and name resolution are exercised on distinct tensors.

Sets:
  small        tiny models covering the importer's first ops (28x28 input)
  ops          ordinary user models (28x28 input): pytorch/examples' MNIST network, shape and
               indexing ops, element-wise math, norms and reductions, 1-d ops and embeddings,
               a 1-channel torchvision resnet18
  torchvision  resnet18, resnet50, mobilenet_v2, mobilenet_v3_small, efficientnet_b0, vgg11_bn,
               squeezenet1_1, shufflenet_v2_x0_5, densenet121, each scripted and traced
  transformers torchvision's VisionTransformer and SwinTransformer, small (same code as vit_b_16 and
               swin_t, fewer and narrower blocks), nn.TransformerEncoder text classifiers over
               token ids, and an nn.MultiheadAttention variant the importer refuses
  transformers-full  vit_b_16 scripted, swin_t scripted and traced (224x224, for the slow test)
  bad          a state_dict, a two-input forward, unknown ops, an embedding of computed indices,
               an empty file, random bytes, truncated copies
"""
import argparse
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 1234


def randomise_bn(model):
    g = torch.Generator().manual_seed(SEED)
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
            with torch.no_grad():
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
                if m.affine:
                    m.weight.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
                    m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
    return model


def save(model, example, out_dir, name, shape):
    model.eval()
    written = []
    scripted = torch.jit.script(model)
    path = os.path.join(out_dir, f"{name}_scripted.pt")
    scripted.save(path)
    written.append(path)
    with torch.no_grad():
        traced = torch.jit.trace(model, example)
    path = os.path.join(out_dir, f"{name}_traced.pt")
    traced.save(path)
    written.append(path)
    for p in written:
        with open(os.path.splitext(p)[0] + ".json", "w") as f:
            json.dump({"name": name, "input_shape": list(shape)}, f)
    return written


# ---------------------------------------------------------------- small models

class AllOps(nn.Module):
    """Touches every op the importer maps, at 1x28x28."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.dw = nn.Conv2d(8, 8, 3, padding=2, dilation=2, groups=8, bias=False)
        self.pw = nn.Conv2d(8, 16, 1, stride=2)
        self.ln = nn.LayerNorm([16, 14, 14])
        self.fc1 = nn.Linear(16 * 7 * 7, 32)
        self.fc2 = nn.Linear(32, 10, bias=False)
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        x = F.relu(self.bn(self.conv(x)))
        y = F.relu6(self.dw(x))
        x = x + y * 0.5 - 0.1
        x = F.hardswish(x) / 2.0
        x = torch.cat([F.hardsigmoid(x), F.silu(x)], 1)
        a, b = torch.chunk(x, 2, dim=1)
        x = torch.sigmoid(a) * torch.tanh(b)
        x = self.pw(x)
        x = F.gelu(self.ln(x))
        p, q = torch.split(x, [8, 8], dim=1)
        x = torch.cat([F.max_pool2d(p, 2), F.avg_pool2d(q, 2)], 1)
        x = x.permute(0, 1, 3, 2).contiguous().transpose(2, 3)
        s = F.adaptive_avg_pool2d(x, 1) + F.adaptive_max_pool2d(x, 1)
        x = x * torch.sigmoid(s)
        x = x.reshape(x.size(0), -1)
        x = self.drop(F.relu(self.fc1(x)))
        x = self.fc2(x)
        return F.softmax(x - x.mean(dim=1, keepdim=True), dim=1)


def make_small(out_dir):
    torch.manual_seed(SEED)
    model = randomise_bn(AllOps())
    return save(model, torch.randn(2, 1, 28, 28), out_dir, "allops", (1, 28, 28))


# ---------------------------------------------------------------- ordinary user models (issue #21)

class MnistNet(nn.Module):
    """The network of pytorch/examples' mnist/main.py, as users copy it."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        return F.log_softmax(x, dim=1)


class ShapeOps(nn.Module):
    """Padding, slicing, selection, constant indexing, channel shuffles, every interpolate form,
    unsqueeze/squeeze/expand/repeat, at 1x28x28."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.shuffle = nn.ChannelShuffle(2) if hasattr(nn, "ChannelShuffle") else nn.Identity()
        self.up = nn.Upsample(scale_factor=2.0, mode="nearest")
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(8)
        self.fc = nn.Linear(8 * 2 + 16, 10)

    def forward(self, x):
        x = F.relu(self.bn(self.conv(x)))                       # 8x28x28
        x = F.pad(x, (1, 2, 0, 1), mode="constant", value=0.5)  # 8x29x31
        x = F.pad(x, [1, 1], value=-0.25)                       # 8x29x33 (default mode)
        x = x[:, :, 1:, 2:-3]                                   # 8x28x28
        x = x[:, [0, 2, 4, 6, 1, 3, 5, 7]]
        x = self.shuffle(x)
        n, c, h, w = x.size()                                   # the ShuffleNet way
        x = x.view(n, 2, c // 2, h, w).transpose(1, 2).contiguous().view(n, c, h, w)
        a = F.interpolate(x, scale_factor=0.5, mode="nearest")                      # 14x14
        b = F.interpolate(x, size=(14, 14), mode="bilinear", align_corners=False)
        c1 = F.interpolate(a, size=(21, 21), mode="bilinear", align_corners=True)
        d = F.interpolate(b, scale_factor=1.5, mode="bilinear", align_corners=False)  # 21x21
        e = F.interpolate(a, size=[21, 21], mode="nearest")
        f = F.interpolate(b, scale_factor=1.5, mode="bilinear", align_corners=True)
        x = c1 + d + e - f                                      # 8x21x21
        x = self.bn2(self.conv2(self.up(x)))                    # 8x42x42
        s = x[:, 0].unsqueeze(1)                                # select + unsqueeze: Nx1x42x42
        x = x + s.expand(-1, 8, -1, -1) * 0.5 + x[:, 3:4].repeat(1, 8, 1, 1)
        x = x[:, :, ::3, 1::2]                                  # Nx8x14x21
        x = x + x.select(2, 5).unsqueeze(2)
        x = x[..., -4:]                                         # Nx8x14x4
        g = F.adaptive_avg_pool2d(x, 1).squeeze(3).squeeze(-1)  # Nx8
        m = F.adaptive_max_pool2d(x, (1, 1)).squeeze()          # Nx8 (batch kept)
        t = x[:, 1:3].mean(dim=1).flatten(1)[:, :16]            # Nx16
        return self.fc(torch.cat([g, m, t], dim=1))


class MathOps(nn.Module):
    """Activations, element-wise math, norms and reductions, at 1x28x28."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3, padding=1)
        self.gn = nn.GroupNorm(4, 8)
        self.inorm = nn.InstanceNorm2d(8, affine=True)
        self.inorm_plain = nn.InstanceNorm2d(8)
        self.inorm_stats = nn.InstanceNorm2d(8, track_running_stats=True)
        self.prelu = nn.PReLU(8)
        self.prelu1 = nn.PReLU()
        self.elu = nn.ELU(alpha=0.7)
        self.softplus = nn.Softplus(beta=2.0, threshold=5.0)
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.bn2 = nn.BatchNorm2d(16)
        self.fc = nn.Linear(16 * 4, 10)

    def forward(self, x):
        x = self.gn(self.conv(x))
        x = self.prelu(F.leaky_relu(x, 0.1)) + F.leaky_relu(x)
        y = self.elu(self.inorm(x)) + F.elu(x)
        z = F.mish(self.inorm_plain(x)) + self.prelu1(self.inorm_stats(x))
        w = self.softplus(x) + F.softplus(x)
        x = y + z - w
        x = torch.pow(x, 2) * 0.1 + torch.sqrt(torch.abs(x) + 1e-3) - torch.rsqrt(x * x + 1.0) + x.abs() ** 0.5 ** 2
        x = torch.exp(-x.clamp(min=-3.0, max=3.0)) + torch.log(x.clamp(min=1e-2)) + 2 ** x.clamp(max=2)
        x = torch.minimum(x, y) + torch.maximum(x, z) + x.clamp_min(0.5) - torch.clamp(x, max=4)
        x = torch.pow(x.abs() + 1.0, torch.sigmoid(y)) + (-x).neg_()
        x = F.relu(self.bn2(self.conv2(x)))                     # 16x14x14
        s = x.sum(dim=(2, 3), keepdim=True) / 196.0
        a = x.amax(dim=[2, 3])
        v = x.var(dim=(2, 3), unbiased=False) + torch.var(x, dim=[2, 3], correction=0) + x.var(dim=[2, 3])
        t = x.sum(dim=3).sum(-1) + x.amax(dim=2, keepdim=True).flatten(1).mean(1, keepdim=True)
        x = x - s
        h = torch.cat([a, v, t, x.flatten(1).sum(1, keepdim=True).expand(-1, 16)], 1)
        return F.log_softmax(self.fc(h), dim=1)


class SeqOps(nn.Module):
    """The image as a sequence of 28 rows: conv1d, 1-d pooling, a transposed convolution and
    embeddings of constant indices (a buffer, arange), at 1x28x28."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv1d(28, 16, 3, padding=1)
        self.bn1 = nn.BatchNorm1d(16)
        self.conv1b = nn.Conv1d(16, 16, 5, stride=2, padding=2, dilation=1, groups=4)
        self.pos = nn.Embedding(28, 14)
        self.rows = nn.Embedding(10, 16)
        self.register_buffer("row_ids", torch.tensor([[1, 4], [9, 0]]))
        self.up = nn.ConvTranspose2d(1, 4, 3, stride=2, padding=1, output_padding=1)
        self.up2 = nn.ConvTranspose2d(4, 4, 2, stride=2, groups=2, bias=False)
        self.conv = nn.Conv2d(4, 4, 3, stride=4)
        self.fc = nn.Linear(16 * 4 + 16 + 4 * 4 * 4, 10)

    def forward(self, x):
        img = x
        x = x.squeeze(1)                                        # N x 28 x 28 (rows x columns)
        x = x + self.pos(torch.arange(28)).repeat(1, 2)         # 28 x 14 positions, twice
        x = F.relu(self.bn1(self.conv1(x)))                     # N x 16 x 28
        x = F.max_pool1d(x, 2)                                  # N x 16 x 14
        x = self.conv1b(x)                                      # N x 16 x 7
        p = F.avg_pool1d(x, 3, stride=2, padding=1)             # N x 16 x 4
        q = F.adaptive_avg_pool1d(x, 4) + F.max_pool1d(x, 3, stride=1, padding=1, ceil_mode=True)[..., :4]
        r = self.rows(self.row_ids).sum(dim=(0, 1))             # 16
        u = F.relu(self.up(img[:, :, ::4, ::4]))                # N x 4 x 14 x 14
        u = self.conv(self.up2(u))                              # N x 4 x 7 x 7 -> 4 x 7 x 7
        u = F.adaptive_avg_pool2d(u, 4).flatten(1)
        h = torch.cat([(p * q).flatten(1), r.unsqueeze(0).expand(x.size(0), -1), u], 1)
        return F.log_softmax(self.fc(h), dim=-1)


def resnet18_gray():
    """torchvision's resnet18 as Fashion-MNIST users adapt it: one input channel, a 3x3 stem
    without the max-pool, the image upsampled to 32x32 first."""
    import torchvision

    class Resnet18Gray(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = torchvision.models.resnet18(weights=None, num_classes=10)
            self.net.conv1 = nn.Conv2d(1, 64, 3, 1, 1, bias=False)
            self.net.maxpool = nn.Identity()

        def forward(self, x):
            x = F.interpolate(x, size=(32, 32), mode="bilinear", align_corners=False)
            return F.log_softmax(self.net(x), dim=1)

    return Resnet18Gray()


def make_op_models(out_dir):
    written = []
    for name, make in (("mnist_net", MnistNet), ("shape_ops", ShapeOps), ("math_ops", MathOps),
                       ("seq_ops", SeqOps), ("resnet18_gray", resnet18_gray)):
        torch.manual_seed(SEED)
        model = randomise_bn(make())
        for m in model.modules():  # non-trivial running statistics for the tracked instance norm
            if isinstance(m, nn.InstanceNorm2d) and m.track_running_stats:
                m.running_mean.copy_(torch.randn(m.running_mean.shape) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape) + 0.5)
        written += save(model, torch.randn(2, 1, 28, 28), out_dir, name, (1, 28, 28))
    return written


# ---------------------------------------------------------------- torchvision

TORCHVISION = ["resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_small", "efficientnet_b0", "vgg11_bn",
               "squeezenet1_1", "shufflenet_v2_x0_5", "densenet121"]


def make_torchvision(out_dir, names, size):
    import torchvision
    written = []
    for name in names:
        torch.manual_seed(SEED)
        model = randomise_bn(getattr(torchvision.models, name)(weights=None))
        written += save(model, torch.randn(1, 3, size, size), out_dir, name, (3, size, size))
    return written


# ---------------------------------------------------------------- transformers (issue #22)

def save_as(model, example, out_dir, name, shape, hows=("scripted", "traced")):
    """Saves @p model scripted and/or traced with its sidecar; returns the paths."""
    model.eval()
    written = []
    for how in hows:
        if how == "scripted":
            module = torch.jit.script(model)
        else:
            with torch.no_grad():
                module = torch.jit.trace(model, example)
        path = os.path.join(out_dir, f"{name}_{how}.pt")
        module.save(path)
        with open(os.path.splitext(path)[0] + ".json", "w") as f:
            json.dump({"name": name, "input_shape": list(shape)}, f)
        written.append(path)
    return written


def randomise_transformer(model):
    """Non-trivial LayerNorm affine parameters and class/position embeddings (random weights
    elsewhere are torchvision's own initialisation; zero-initialised heads get weights too)."""
    g = torch.Generator().manual_seed(SEED)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.LayerNorm):
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
            if isinstance(m, nn.Linear) and m.weight.abs().sum() == 0:
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) * 0.02)
        for name, p in model.named_parameters():
            if name.endswith("class_token") or name.endswith("pos_embedding") or "relative_position_bias_table" in name:
                p.copy_(torch.randn(p.shape, generator=g) * 0.1)
    return model


class BiasKvAttention(nn.Module):
    """nn.MultiheadAttention with bias_k/bias_v and add_zero_attn: an attention variant the
    importer refuses with the op's name."""

    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(12, 16)
        self.attn = nn.MultiheadAttention(16, 4, batch_first=True, add_bias_kv=True, add_zero_attn=True)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        t = self.proj(x.flatten(2))                  # N x C x 16 (rows as tokens)
        y = self.attn(t, t, t, need_weights=False)[0]
        return self.fc(y.mean(1))


class TextClassifier(nn.Module):
    """A BERT-like text classifier over token ids (0 is padding): token and learned position
    embeddings, nn.TransformerEncoder with the padding mask, mean or first-token (CLS) pooling.
    batch_first=False (nn.TransformerEncoderLayer's default) runs F.multi_head_attention_forward;
    batch_first=True with the nested-tensor path off runs the fused layer and attention kernels; with it
    on (nested=True), the importer refuses the model (the path depends on each batch's padding)."""

    def __init__(self, pooling="mean", batch_first=False, nested=False, vocab=100, length=16, dim=32, heads=4,
                 classes=4):
        super().__init__()
        self.pooling = pooling
        self.batch_first = batch_first
        self.tokens = nn.Embedding(vocab, dim, padding_idx=0)
        self.positions = nn.Embedding(length, dim)
        layer = nn.TransformerEncoderLayer(dim, heads, dim_feedforward=2 * dim, batch_first=batch_first)
        self.encoder = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(dim), enable_nested_tensor=nested)
        self.fc = nn.Linear(dim, classes)

    def forward(self, tokens):
        mask = tokens == 0
        x = self.tokens(tokens) + self.positions(torch.arange(tokens.size(1)))
        if not self.batch_first:
            x = x.transpose(0, 1)
        x = self.encoder(x, src_key_padding_mask=mask)
        if not self.batch_first:
            x = x.transpose(0, 1)
        pooled = x[:, 0] if self.pooling == "cls" else x.mean(dim=1)
        return self.fc(pooled)


def make_transformers(out_dir, full):
    from torchvision.models.vision_transformer import VisionTransformer
    from torchvision.models.swin_transformer import SwinTransformer
    import torchvision
    written = []
    if full:
        torch.manual_seed(SEED)
        written += save_as(randomise_transformer(torchvision.models.vit_b_16(weights=None)),
                           torch.randn(1, 3, 224, 224), out_dir, "vit_b_16", (3, 224, 224), ("scripted",))
        torch.manual_seed(SEED)
        written += save_as(randomise_transformer(torchvision.models.swin_t(weights=None)),
                           torch.randn(1, 3, 224, 224), out_dir, "swin_t", (3, 224, 224))
        return written
    torch.manual_seed(SEED)
    vit = randomise_transformer(VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=4,
                                                  hidden_dim=32, mlp_dim=64, num_classes=10))
    # torchvision's ViT cannot be traced in eval mode with PyTorch 1.13 (the attention fast path)
    written += save_as(vit, torch.randn(1, 3, 32, 32), out_dir, "vit_small", (3, 32, 32), ("scripted",))
    torch.manual_seed(SEED)
    swin = randomise_transformer(SwinTransformer(patch_size=[4, 4], embed_dim=16, depths=[2, 2], num_heads=[2, 4],
                                                 window_size=[4, 4], num_classes=10))
    written += save_as(swin, torch.randn(1, 3, 32, 32), out_dir, "swin_small", (3, 32, 32))
    tokens = torch.randint(1, 100, (2, 16))
    # text_nested first: TorchScript compiles nn.TransformerEncoder once per process, and a later model
    # would inherit its earlier `isinstance(first_layer, TransformerEncoderLayer)` verdict
    for name, pooling, batch_first, nested in (("text_nested", "mean", True, True), ("text_mean", "mean", False, False),
                                               ("text_cls", "cls", False, False), ("text_fused", "mean", True, False)):
        torch.manual_seed(SEED)
        written += save_as(randomise_transformer(TextClassifier(pooling, batch_first, nested)), tokens, out_dir, name,
                           (16,), ("scripted",))
    torch.manual_seed(SEED)
    written += save_as(BiasKvAttention(), torch.randn(1, 3, 4, 3), out_dir, "attention_bias_kv", (3, 4, 3),
                       ("scripted",))
    return written


# ---------------------------------------------------------------- bad inputs

class TwoInputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x, y):
        return self.fc(x + y)


class UnknownOp(nn.Module):
    """Ops the importer does not map (keep them unmapped: the refusal test names them)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.up = nn.ConvTranspose2d(4, 4, 2, stride=2)

    def forward(self, x):
        x = torch.cumsum(self.conv(x), dim=2)
        return torch.flip(self.up(torch.erf(x)), [3])


class EmbeddingIndices(nn.Module):
    """An embedding looked up by indices the model computes from its input."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 4)

    def forward(self, x):
        idx = (x.mean(dim=(1, 2, 3)) * 4.0).long().clamp(0, 9)
        return self.emb(idx)


def make_bad(out_dir):
    written = []
    torch.manual_seed(SEED)
    good = torch.jit.script(nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU()))
    good_path = os.path.join(out_dir, "good_small.pt")
    good.save(good_path)
    paths = {
        "state_dict": os.path.join(out_dir, "bad_state_dict.pt"),
        "two_inputs": os.path.join(out_dir, "bad_two_inputs.pt"),
        "unknown_op": os.path.join(out_dir, "bad_unknown_op.pt"),
        "embedding_indices": os.path.join(out_dir, "bad_embedding_indices.pt"),
        "empty": os.path.join(out_dir, "bad_empty.pt"),
        "random": os.path.join(out_dir, "bad_random.pt"),
    }
    torch.save(nn.Linear(4, 2).state_dict(), paths["state_dict"])
    torch.jit.script(TwoInputs()).save(paths["two_inputs"])
    torch.jit.script(UnknownOp()).save(paths["unknown_op"])
    torch.jit.script(EmbeddingIndices()).save(paths["embedding_indices"])
    open(paths["empty"], "wb").close()
    with open(paths["random"], "wb") as f:
        f.write(torch.randint(0, 256, (4096,), generator=torch.Generator().manual_seed(SEED),
                              dtype=torch.uint8).numpy().tobytes())
    data = open(good_path, "rb").read()
    for frac in (0.1, 0.5, 0.9):
        p = os.path.join(out_dir, f"bad_truncated_{int(frac * 100)}.pt")
        with open(p, "wb") as f:
            f.write(data[:int(len(data) * frac)])
        written.append(p)
    for p in list(paths.values()) + [good_path]:
        with open(os.path.splitext(p)[0] + ".json", "w") as f:
            json.dump({"input_shape": [1, 8, 8] if "two" not in p else [1, 1, 4]}, f)
    return written + list(paths.values()) + [good_path]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir")
    parser.add_argument("--set", default="all", choices=["small", "ops", "torchvision", "transformers", "transformers-full", "bad", "all"])
    parser.add_argument("--models", default=",".join(TORCHVISION))
    parser.add_argument("--size", type=int, default=64, help="input height/width for torchvision models")
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count())
    os.makedirs(args.out_dir, exist_ok=True)
    written = []
    if args.set in ("small", "all"):
        written += make_small(args.out_dir)
    if args.set in ("ops", "all"):
        written += make_op_models(args.out_dir)
    if args.set in ("bad", "all"):
        written += make_bad(args.out_dir)
    if args.set in ("torchvision", "all"):
        written += make_torchvision(args.out_dir, args.models.split(","), args.size)
    if args.set in ("transformers", "transformers-full", "all"):
        written += make_transformers(args.out_dir, args.set == "transformers-full")
    for p in written:
        print(p)


if __name__ == "__main__":
    sys.exit(main())
