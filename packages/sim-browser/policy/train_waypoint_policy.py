"""Trains the waypoint policy shipped with @telekit/sim-browser and exports it to ONNX.

What it is: a 2→32→32→2 tanh MLP, trained by behaviour cloning of a proportional waypoint controller
for the differential-drive robot (diff_drive.xml). Input `obs` [N, 2]: the goal's position in the
robot's frame (metres, x forward, y left). Output `twist` [N, 2]: forward speed (m/s) and yaw rate
(rad/s). The expert: v = 0.5·tanh(2·d)·max(0, cos a), ω = 1.5·tanh(2·a), d and a the goal's distance
and bearing.

Run: .venv/bin/python -m pip install numpy onnx && .venv/bin/python policy/train_waypoint_policy.py
(deterministic: seeded; writes policy/waypoint_policy.onnx and prints the fit).
"""

import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(7)


def expert(obs: np.ndarray) -> np.ndarray:
    d = np.hypot(obs[:, 0], obs[:, 1])
    a = np.arctan2(obs[:, 1], obs[:, 0])
    v = 0.5 * np.tanh(2 * d) * np.maximum(0.0, np.cos(a))
    w = 1.5 * np.tanh(2 * a)
    return np.stack([v, w], axis=1)


def init(n_in: int, n_out: int):
    return rng.normal(0, np.sqrt(1 / n_in), (n_in, n_out)), np.zeros(n_out)


def forward(params, x):
    (w1, b1), (w2, b2), (w3, b3) = params
    h1 = np.tanh(x @ w1 + b1)
    h2 = np.tanh(h1 @ w2 + b2)
    return h1, h2, h2 @ w3 + b3


def train(steps=6000, batch=512, lr=3e-3):
    params = [init(2, 32), init(32, 32), init(32, 2)]
    m = [[np.zeros_like(p) for p in layer] for layer in params]
    v = [[np.zeros_like(p) for p in layer] for layer in params]
    for t in range(1, steps + 1):
        x = rng.uniform(-3, 3, (batch, 2))
        y = expert(x)
        h1, h2, out = forward(params, x)
        g_out = 2 * (out - y) / batch
        (w1, _), (w2, _), (w3, _) = params
        g_w3, g_b3 = h2.T @ g_out, g_out.sum(0)
        g_h2 = (g_out @ w3.T) * (1 - h2**2)
        g_w2, g_b2 = h1.T @ g_h2, g_h2.sum(0)
        g_h1 = (g_h2 @ w2.T) * (1 - h1**2)
        g_w1, g_b1 = x.T @ g_h1, g_h1.sum(0)
        grads = [(g_w1, g_b1), (g_w2, g_b2), (g_w3, g_b3)]
        for i, layer in enumerate(grads):
            for j, g in enumerate(layer):
                m[i][j] = 0.9 * m[i][j] + 0.1 * g
                v[i][j] = 0.999 * v[i][j] + 0.001 * g * g
                mh, vh = m[i][j] / (1 - 0.9**t), v[i][j] / (1 - 0.999**t)
                p = params[i][j]
                p -= lr * mh / (np.sqrt(vh) + 1e-8)
    return params


def export(params, path):
    nodes, inits = [], []
    x = "obs"
    for i, (w, b) in enumerate(params):
        inits += [numpy_helper.from_array(w.astype(np.float32), f"w{i}"), numpy_helper.from_array(b.astype(np.float32), f"b{i}")]
        nodes.append(helper.make_node("MatMul", [x, f"w{i}"], [f"m{i}"]))
        last = i == len(params) - 1
        nodes.append(helper.make_node("Add", [f"m{i}", f"b{i}"], ["twist" if last else f"a{i}"]))
        if not last:
            nodes.append(helper.make_node("Tanh", [f"a{i}"], [f"h{i}"]))
            x = f"h{i}"
    graph = helper.make_graph(
        nodes,
        "telekit_waypoint_policy",
        [helper.make_tensor_value_info("obs", TensorProto.FLOAT, ["N", 2])],
        [helper.make_tensor_value_info("twist", TensorProto.FLOAT, ["N", 2])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="telekit")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


if __name__ == "__main__":
    params = train()
    test = rng.uniform(-3, 3, (4096, 2))
    err = np.abs(forward(params, test)[2] - expert(test))
    print(f"fit on 4096 held-out goals: mean abs error v {err[:, 0].mean():.4f} m/s, w {err[:, 1].mean():.4f} rad/s")
    out = os.path.join(HERE, "waypoint_policy.onnx")
    export(params, out)
    print(f"wrote {out} ({os.path.getsize(out)} bytes)")
