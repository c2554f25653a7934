"""Generate a deterministic synthetic vault shaped like the real tubegraph video notes."""

#     python benchmarks/synth.py OUT_DIR --notes 50000 --seed 1
#
# The shape follows counts taken over the 18k real notes: one folder per channel (about
# 70, very unequal in size), a `<channel>/<channel>.md` directory page per channel, notes
# grouped by video (about half of the videos have one note, most others five or ten, the
# siblings sharing a videoId), median note about 6.6 KB with about 6 headings and 30
# timestamp anchors, `**Label:**` bullets, wikilinks of which about one in five dangle,
# and about one note in six whose `data-t` values are garbled as MM:SS:xx.
#
# Words are drawn at run time from the real sample notes (unigram frequencies), or from
# generated pseudo-words when those are absent; no real note text is copied whole.

from __future__ import annotations

import argparse
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from random import Random

DEFAULT_WORD_SOURCE = Path(__file__).resolve().parents[2] / "shared/corpus/tubegraph/content"
CHANNELS = 70
# Notes per video and how many real videos have that many (counted on the full corpus).
NOTES_PER_VIDEO = (1, 5, 10, 9, 11, 4, 8, 6)
VIDEO_WEIGHTS = (2542, 2109, 267, 81, 71, 57, 23, 8)
GARBLED_SHARE = 1 / 6
DANGLING_SHARE = 0.2
MAX_VIDEO_SECONDS = 4 * 3600 - 1
FRAGMENTS = 20_000
ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

MARKUP = re.compile(
    r"^---\n.*?\n---\n"  # frontmatter
    r"|<[^>]*>"  # HTML tags, anchors included
    r"|\[\[[^\]]*\]\]"  # wikilinks
    r"|\[\d[\d:]*\]"  # timestamp labels
    r"|https?://\S+",  # URLs
    re.DOTALL,
)
WORD = re.compile(r"[A-Za-z][a-z'-]*[a-z]|\b[aAI]\b")


@dataclass
class Channel:
    """What one channel folder has accumulated while its notes are generated."""

    name: str
    slugs: list[str] = field(default_factory=list)
    videos: list[tuple[str, str, list[tuple[str, str]]]] = field(default_factory=list)


@dataclass
class NoteState:
    """The running state of the note being written: where its timestamps have got to."""

    channel: Channel
    garbled: bool
    clock: int
    duration: int
    size: float


def load_words(source: Path, rng: Random) -> list[str]:
    """Word tokens of the real sample notes, repeats kept so choice() follows frequency."""
    words: list[str] = []
    if source.is_dir():
        for path in sorted(source.rglob("*.md")):
            text = MARKUP.sub(" ", path.read_text(encoding="utf-8", errors="replace"))
            words.extend(w.lower() for w in WORD.findall(text))
    if len(words) >= 1000:
        return words
    # No sample notes at hand: pseudo-words with a skewed frequency, still deterministic.
    syllables = [c + v for c in "bcdfghklmnprstvz" for v in "aeiou"]
    vocabulary = ["".join(rng.choices(syllables, k=rng.randint(1, 4))) for _ in range(5000)]
    return [w for rank, w in enumerate(vocabulary, 1) for _ in range(max(1, 400 // rank))]


class NoteWriter:
    """Builds note texts from one random stream; all randomness flows through `rng`.

    Sentences join two word fragments drawn from pools made up front: 50k notes need
    millions of sentences, and drawing every word one by one would take minutes.
    With 20k fragments a sentence has 400M possible word sequences.
    """

    def __init__(self, rng: Random, words: list[str]) -> None:
        self.rng = rng
        self.words = words
        self.fragments = [" ".join(self.phrase(5, 13)) for _ in range(FRAGMENTS)]
        self.openers = [f[0].upper() + f[1:] for f in self.fragments]
        self.short = [" ".join(self.phrase(1, 4)) for _ in range(FRAGMENTS)]
        self.headings = [self.title(2, 5) for _ in range(FRAGMENTS)]

    def phrase(self, low: int, high: int) -> list[str]:
        return self.rng.choices(self.words, k=self.rng.randint(low, high))

    def title(self, low: int, high: int) -> str:
        text = " ".join(self.phrase(low, high))
        return text[0].upper() + text[1:]

    def pick(self, pool: list[str]) -> str:
        return pool[int(self.rng.random() * len(pool))]

    def unique_slug(self, title: str, taken: set[str]) -> str:
        base = re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")[:80] or "note"
        slug, n = base, 1
        while slug in taken:
            n += 1
            slug = f"{base}_{n}"
        taken.add(slug)
        return slug

    def wikilink(self, channel: Channel) -> str:
        random = self.rng.random
        if channel.slugs and random() >= DANGLING_SHARE:
            target = channel.slugs[int(random() * len(channel.slugs))]
        else:
            target = self.pick(self.short).replace(" ", "_")
        return f"[[{target} | {self.pick(self.short)}]]"

    def sentence(self, note: NoteState) -> str:
        random = self.rng.random
        roll = random()
        middle = f" {self.wikilink(note.channel)} " if roll < 0.2 else " "
        text = self.pick(self.openers) + middle + self.pick(self.fragments)
        if roll < 0.3:
            return text + "."
        if roll < 0.85:
            return f"{text} {self.anchor(note)}."
        return f"{text} {self.anchor(note)}, {self.anchor(note)}."

    def anchor(self, note: NoteState) -> str:
        seconds = note.clock = min(note.duration, note.clock + 2 + int(self.rng.random() * 40))
        if note.garbled:
            # The common real error: minutes and seconds shifted into the first two fields.
            minutes, secs = divmod(seconds, 60)
            label = f"{minutes:02d}:{secs:02d}:{int(self.rng.random() * 60):02d}"
        else:
            hours, rest = divmod(seconds, 3600)
            label = f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"
        return f'<a class="yt-timestamp" data-t="{label}">[{label}]</a>'

    def section_body(self, note: NoteState) -> str:
        rng = self.rng
        say = self.sentence
        if rng.random() < 0.35:
            bullets = max(2, round(rng.randint(2, 5) * note.size))
            lines = [say(note)[:-1] + ":"]
            lines.extend(
                f"*   **{self.pick(self.short).title()}:** {say(note)}" for _ in range(bullets)
            )
            return "\n".join(lines)
        paragraphs = []
        for _ in range(1 if rng.random() < 0.6 else 2):
            count = max(1, round(rng.randint(2, 6) * note.size))
            paragraphs.append(" ".join([say(note) for _ in range(count)]))
        return "\n\n".join(paragraphs)

    def note(self, channel: Channel, title: str, video_id: str, duration: int) -> str:
        rng = self.rng
        note = NoteState(
            channel=channel,
            garbled=rng.random() < GARBLED_SHARE,
            clock=rng.randint(0, duration * 2 // 3),
            duration=duration,
            size=rng.lognormvariate(0.0, 0.45),  # spread note sizes around the median
        )
        overview = " ".join([self.sentence(note) for _ in range(rng.randint(1, 3))])
        parts = [
            f"---\ntitle: {title}\nvideoId: {video_id}\n---",
            f"From: [[{channel.name}]] <br/> ",
            overview,
        ]
        for _ in range(rng.randint(2, 6)):
            parts.append(f"## {self.pick(self.headings)}")
            parts.append(self.section_body(note))
            for _ in range(rng.choice((0, 0, 0, 1, 1, 2))):
                parts.append(f"### {self.pick(self.headings)}")
                parts.append(self.section_body(note))
        return "\n\n".join(parts) + "\n"


def channel_page(channel: Channel) -> str:
    """The directory page of a channel: one `###` per video, a bullet per topic note."""
    blocks = [f"---\ntitle: {channel.name}\n---"]
    for video_id, video_title, notes in channel.videos:
        links = "\n".join(f"- [[{slug} | {title}]]" for slug, title in notes)
        blocks.append(f"### [{video_title}](https://www.youtube.com/watch?v={video_id})\n{links}")
    return "\n\n".join(blocks) + "\n"


def generate(out: Path, notes: int, seed: int, word_source: Path) -> tuple[int, int, int]:
    """Write `notes` files under `out`; return (notes, channels, videos) written."""
    rng = Random(seed)
    writer = NoteWriter(rng, load_words(word_source, rng))
    names: set[str] = set()
    channels: list[Channel] = []
    for _ in range(min(CHANNELS, notes)):
        name = writer.unique_slug("".join(writer.phrase(2, 2)), names).replace("_", "")
        channels.append(Channel(name))
    # Very unequal channel sizes, as in the real vault (1 to 845 notes per channel).
    weights = [1 / (rank + 1) ** 0.9 for rank in range(len(channels))]
    counts = [0] * len(channels)
    for index in rng.choices(range(len(channels)), weights, k=notes):
        counts[index] += 1

    written = videos = 0
    for channel, count in zip(channels, counts, strict=True):
        if count == 0:
            continue
        folder = out / channel.name
        folder.mkdir()
        taken = {channel.name}
        remaining = count - 1 if count > 1 else count  # the directory page takes one slot
        while remaining > 0:
            per_video = min(remaining, rng.choices(NOTES_PER_VIDEO, VIDEO_WEIGHTS)[0])
            video_id = "".join(rng.choices(ID_ALPHABET, k=11))
            duration = min(MAX_VIDEO_SECONDS, max(120, int(rng.lognormvariate(7.4, 0.8))))
            listed: list[tuple[str, str]] = []
            for _ in range(per_video):
                title = writer.title(2, 6)
                slug = writer.unique_slug(title, taken)
                text = writer.note(channel, title, video_id, duration)
                (folder / f"{slug}.md").write_text(text, encoding="utf-8")
                channel.slugs.append(slug)
                listed.append((slug, title))
            channel.videos.append((video_id, writer.title(3, 9), listed))
            written += per_video
            videos += 1
            remaining -= per_video
        if count > 1:
            (folder / f"{channel.name}.md").write_text(channel_page(channel), encoding="utf-8")
            written += 1
    return written, sum(1 for c in counts if c), videos


def main() -> None:
    """Parse the command line, generate the vault into a staging folder, move it into place."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--notes", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--words-from", type=Path, default=DEFAULT_WORD_SOURCE)
    args = parser.parse_args()
    out: Path = args.out_dir
    if args.notes < 1:
        parser.error("--notes must be at least 1")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        parser.error(f"{out} exists and is not an empty folder")

    start = time.perf_counter()
    out.parent.mkdir(parents=True, exist_ok=True)
    # Build beside the target and rename, so a failed run leaves no half-written vault.
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the vault is an ordinary folder
    try:
        notes, channels, videos = generate(staging, args.notes, args.seed, args.words_from)
        os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    seconds = time.perf_counter() - start
    size = sum(p.stat().st_size for p in out.rglob("*.md")) / (1024 * 1024)
    print(
        f"notes {notes}  channels {channels}  videos {videos}  "
        f"size {size:.1f} MiB  seconds {seconds:.2f}"
    )


if __name__ == "__main__":
    main()
