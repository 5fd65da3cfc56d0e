#!/usr/bin/env python3
"""Exports models with Debian's python3-torch (torch.onnx.export) for the ONNX import tests.

    make_onnx_zoo.py OUT_DIR [--models a,b,...] [--opsets 11,13,17] [--more c,d,...]
                     [--torchscript a,b,...] [--size 224]

Writes OUT_DIR/<model>_op<opset>.onnx for each of --models and --opsets and <model>_op<last>_dyn.onnx
(a dynamic batch axis); --more: <model>_op13.onnx only; --torchscript: <model>.pt, the same
weights traced to TorchScript (what `ptq export --format onnx-fp32` starts from). Random weights
(seeded), eval mode. Also small.onnx, a copy with its weights in an external-data file
(small_ext.onnx + small_ext.data), and bad files: truncated, empty, text, unknown op, custom
domain, two inputs, dynamic height/width, a Gemm without inputs, missing external data, external data that is a folder
or lies past its file's end; tf2onnx_nhwc.onnx, a CNN laid out
as tf2onnx writes Keras models (NHWC input, transposes, ReduceMean pooling, MatMul + Add).
"""
import argparse
import os
import shutil
import sys
import warnings

warnings.filterwarnings("ignore")
import onnx  # noqa: E402
import torch  # noqa: E402
import torchvision  # noqa: E402

ZOO = {
    "resnet18": lambda: torchvision.models.resnet18(),
    "mobilenet_v2": lambda: torchvision.models.mobilenet_v2(),
    "efficientnet_b0": lambda: torchvision.models.efficientnet_b0(),
    "mobilenet_v3_small": lambda: torchvision.models.mobilenet_v3_small(),
    "shufflenet_v2_x0_5": lambda: torchvision.models.shufflenet_v2_x0_5(),
    "squeezenet1_1": lambda: torchvision.models.squeezenet1_1(),
    "densenet121": lambda: torchvision.models.densenet121(),
    "googlenet": lambda: torchvision.models.googlenet(aux_logits=False, init_weights=True),
    "mnasnet0_5": lambda: torchvision.models.mnasnet0_5(),
    "regnet_x_400mf": lambda: torchvision.models.regnet_x_400mf(),
    "alexnet": lambda: torchvision.models.alexnet(),
    "vgg11": lambda: torchvision.models.vgg11(),
    "convnext_tiny": lambda: torchvision.models.convnext_tiny(),
}


def export(model, path, opset, dynamic, size=224):
    torch.manual_seed(0)
    x = torch.randn(1, 3, size, size)
    kwargs = dict(opset_version=opset, input_names=["input"], output_names=["logits"])
    if dynamic:
        kwargs["dynamic_axes"] = {"input": {0: "batch"}, "logits": {0: "batch"}}
    torch.onnx.export(model, x, path, **kwargs)


def tf2onnx_style(path):
    """A Keras-like CNN as tf2onnx writes it: an NHWC input ('input_1', batch 'unk__0') transposed to
    NCHW by the first node, Conv + Relu, a transpose back to NHWC, ReduceMean over H and W, a Dense
    layer as MatMul + Add, Softmax."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(0)
    w1 = rng.normal(0, 0.3, (8, 3, 3, 3)).astype(np.float32)
    b1 = rng.normal(0, 0.1, 8).astype(np.float32)
    w2 = rng.normal(0, 0.2, (16, 8, 3, 3)).astype(np.float32)
    b2 = rng.normal(0, 0.1, 16).astype(np.float32)
    wd = rng.normal(0, 0.3, (16, 10)).astype(np.float32)
    bd = rng.normal(0, 0.1, 10).astype(np.float32)
    inits = [numpy_helper.from_array(a, n) for a, n in
             [(w1, "conv2d/kernel"), (b1, "conv2d/bias"), (w2, "conv2d_1/kernel"), (b2, "conv2d_1/bias"),
              (wd, "dense/kernel"), (bd, "dense/bias")]]
    nodes = [
        helper.make_node("Transpose", ["input_1"], ["nchw"], perm=[0, 3, 1, 2], name="model/conv2d/Conv2D__6"),
        helper.make_node("Conv", ["nchw", "conv2d/kernel", "conv2d/bias"], ["c1"], kernel_shape=[3, 3],
                         pads=[1, 1, 1, 1], name="model/conv2d/Conv2D"),
        helper.make_node("Relu", ["c1"], ["r1"], name="model/conv2d/Relu"),
        helper.make_node("Conv", ["r1", "conv2d_1/kernel", "conv2d_1/bias"], ["c2"], kernel_shape=[3, 3],
                         strides=[2, 2], pads=[1, 1, 1, 1], name="model/conv2d_1/Conv2D"),
        helper.make_node("Relu", ["c2"], ["r2"], name="model/conv2d_1/Relu"),
        helper.make_node("Transpose", ["r2"], ["nhwc"], perm=[0, 2, 3, 1], name="model/conv2d_1/Relu__12"),
        helper.make_node("ReduceMean", ["nhwc"], ["pooled"], axes=[1, 2], keepdims=0,
                         name="model/global_average_pooling2d/Mean"),
        helper.make_node("MatMul", ["pooled", "dense/kernel"], ["mm"], name="model/dense/MatMul"),
        helper.make_node("Add", ["mm", "dense/bias"], ["logits"], name="model/dense/BiasAdd"),
        helper.make_node("Softmax", ["logits"], ["dense"], axis=1, name="model/dense/Softmax"),
    ]
    x = helper.make_tensor_value_info("input_1", TensorProto.FLOAT, ["unk__0", 32, 32, 3])
    y = helper.make_tensor_value_info("dense", TensorProto.FLOAT, ["unk__0", 10])
    graph = helper.make_graph(nodes, "tf2onnx", [x], [y], inits)
    m = helper.make_model(graph, producer_name="tf2onnx", opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 7
    onnx.checker.check_model(m)
    onnx.save(m, path)


def bad_files(out, good):
    data = open(good, "rb").read()
    open(os.path.join(out, "bad_truncated.onnx"), "wb").write(data[: len(data) // 2])
    open(os.path.join(out, "bad_empty.onnx"), "wb").write(b"")
    open(os.path.join(out, "bad_text.onnx"), "wb").write(b"this is not a model\n")
    m = onnx.load(good)
    m.graph.node[3].op_type = "FancyConv"
    onnx.save(m, os.path.join(out, "bad_unknown_op.onnx"))
    m = onnx.load(good)
    m.graph.node[3].domain = "com.example"
    m.opset_import.append(onnx.helper.make_opsetid("com.example", 1))
    onnx.save(m, os.path.join(out, "bad_domain.onnx"))
    m = onnx.load(good)
    extra = onnx.helper.make_tensor_value_info("mask", onnx.TensorProto.FLOAT, [1, 3, 32, 32])
    m.graph.input.append(extra)
    onnx.save(m, os.path.join(out, "bad_two_inputs.onnx"))
    m = onnx.load(good)
    dims = m.graph.input[0].type.tensor_type.shape.dim
    dims[2].dim_param, dims[3].dim_param = "height", "width"
    onnx.save(m, os.path.join(out, "bad_dynamic_hw.onnx"))
    m = onnx.load(good)
    gemm = next(n for n in m.graph.node if n.op_type == "Gemm")
    del gemm.input[:]
    onnx.save(m, os.path.join(out, "bad_no_inputs.onnx"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--models", default="resnet18,mobilenet_v2,efficientnet_b0")
    ap.add_argument("--opsets", default="13")
    ap.add_argument("--more", default="")
    ap.add_argument("--torchscript", default="")
    ap.add_argument("--size", type=int, default=224)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    opsets = [int(o) for o in args.opsets.split(",")]
    names = lambda text: [n for n in text.split(",") if n]
    for name in names(args.models) + names(args.more) + names(args.torchscript):
        if name not in ZOO:
            sys.exit(f"make_onnx_zoo.py: no model '{name}'; known: {', '.join(sorted(ZOO))}")
    for name in names(args.torchscript):
        torch.manual_seed(0)
        model = ZOO[name]().eval()
        with torch.no_grad():
            torch.jit.trace(model, torch.randn(1, 3, args.size, args.size)).save(os.path.join(args.out, f"{name}.pt"))
    for name in names(args.more):
        torch.manual_seed(0)
        export(ZOO[name]().eval(), os.path.join(args.out, f"{name}_op13.onnx"), 13, False, args.size)
    for name in names(args.models):
        torch.manual_seed(0)
        model = ZOO[name]().eval()
        for opset in opsets:
            export(model, os.path.join(args.out, f"{name}_op{opset}.onnx"), opset, False, args.size)
        export(model, os.path.join(args.out, f"{name}_op{opsets[-1]}_dyn.onnx"), opsets[-1], True, args.size)
    # a small model for the external-data and bad-file cases
    small = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.BatchNorm2d(8), torch.nn.ReLU(),
                                torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(8, 10)).eval()
    good = os.path.join(args.out, "small.onnx")
    export(small, good, 13, True, 32)
    m = onnx.load(good)
    onnx.save_model(m, os.path.join(args.out, "small_ext.onnx"), save_as_external_data=True,
                    all_tensors_to_one_file=True, location="small_ext.data", size_threshold=0)
    shutil.copy(os.path.join(args.out, "small_ext.onnx"), os.path.join(args.out, "bad_missing_data.onnx"))
    m = onnx.load(os.path.join(args.out, "bad_missing_data.onnx"), load_external_data=False)
    for t in m.graph.initializer:
        for e in t.external_data:
            if e.key == "location":
                e.value = "gone.data"
    onnx.save(m, os.path.join(args.out, "bad_missing_data.onnx"))
    # external data that names a folder, and an offset far past the end of its file
    for name, key, value in (("bad_data_folder.onnx", "location", "."),
                             ("bad_data_offset.onnx", "offset", "9223372036854775800")):
        m = onnx.load(os.path.join(args.out, "small_ext.onnx"), load_external_data=False)
        t = m.graph.initializer[0]
        for e in t.external_data:
            if e.key == key:
                e.value = value
        if key not in [e.key for e in t.external_data]:
            t.external_data.add(key=key, value=value)
        onnx.save(m, os.path.join(args.out, name))
    bad_files(args.out, good)
    tf2onnx_style(os.path.join(args.out, "tf2onnx_nhwc.onnx"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
