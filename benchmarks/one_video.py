"""Cold builds of N notes of one video against N notes of N videos (issue 14 item 15).

The timestamp check compares each note with the other notes of its video; it must stay
linear in the notes of one video. Run: .venv/bin/python benchmarks/one_video.py 3000
"""

import shutil
import sys
import tempfile
import time
from pathlib import Path

from notedeck.build import build
from notedeck.config import Config

N = int(sys.argv[1]) if len(sys.argv) > 1 else 3000


def vault(root: Path, same: bool) -> Path:
    notes = root / "notes" / "d"
    notes.mkdir(parents=True)
    for i in range(N):
        vid = "abcdefghijk" if same else f"{i:011d}"
        (notes / f"n{i}.md").write_text(
            f"---\ntitle: Note {i}\nvideoId: {vid}\n---\n## Part {i}\n"
            f"Point {i} is made here at the moment [00:0{i % 10}:1{i % 6}].\n"
        )
    return root / "notes"


for same in (False, True):
    root = Path(tempfile.mkdtemp(prefix="notedeck-bench-"))
    notes = vault(root, same)
    t = time.perf_counter()
    build(Config(notes_dir=notes, out_dir=root / "decks", jobs=1))
    print(f"{N} notes, {'one video' if same else f'{N} videos'}: {time.perf_counter() - t:.2f} s")
    shutil.rmtree(root)
