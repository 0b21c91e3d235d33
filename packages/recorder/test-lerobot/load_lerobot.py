"""Loads a LeRobot dataset exported by `telekit export lerobot` with the real `lerobot` package,
offline (HF_HUB_OFFLINE=1), and prints one JSON line: its lengths and fps, its features, the first
frame's and one later frame's state, action, indices and task, and the decoded camera frames' shape,
value range and mean."""

import json
import sys

from lerobot.datasets.lerobot_dataset import LeRobotDataset

root, repo_id = sys.argv[1], sys.argv[2]
ds = LeRobotDataset(repo_id, root=root)


def frame(i: int) -> dict:
    item = ds[i]
    out = {
        "state": item["observation.state"].tolist(),
        "action": item["action"].tolist(),
        "timestamp": float(item["timestamp"]),
        "frame_index": int(item["frame_index"]),
        "episode_index": int(item["episode_index"]),
        "index": int(item["index"]),
        "task": item["task"],
        "images": {},
    }
    for key in ds.meta.camera_keys:
        img = item[key]
        out["images"][key] = {
            "shape": list(img.shape),
            "dtype": str(img.dtype),
            "min": float(img.min()),
            "max": float(img.max()),
            "mean": float(img.mean()),
        }
    return out


last_of_first = int(ds.meta.episodes[0]["dataset_to_index"]) - 1
print(
    json.dumps(
        {
            "len": len(ds),
            "num_frames": ds.num_frames,
            "num_episodes": ds.num_episodes,
            "fps": ds.fps,
            "camera_keys": list(ds.meta.camera_keys),
            "features": {k: {"dtype": v["dtype"], "shape": list(v["shape"])} for k, v in ds.features.items()},
            "tasks": list(ds.meta.tasks.index),
            "stats_keys": sorted(ds.meta.stats.keys()) if ds.meta.stats else [],
            "frames": {"0": frame(0), "last_of_first": frame(last_of_first), "last": frame(len(ds) - 1)},
        }
    )
)
