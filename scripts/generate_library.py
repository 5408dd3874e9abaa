#!/usr/bin/env python3
"""Write a synthetic course of N lessons (fr, with a quiz each) for benchmarks and tests:
    scripts/generate_library.py OUT_DIR [--lessons 5000] [--id library]
The text mixes real French vocabulary so the search index sees a realistic word spread."""

from __future__ import annotations

import argparse
import random
from pathlib import Path

WORDS = ("élève école téléphone sécurité mot passe compte message lien site officiel données "
         "personnelles fraction pourcentage prix remise budget famille santé information source "
         "vérifier partager photo réseau application mise jour écran verrouiller sauvegarde "
         "numérique apprendre lire écrire calculer marché dirham quotidien confiance protéger").split()


def write_course(out: Path, lessons: int, course_id: str = "library", seed: int = 1) -> Path:
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    (out / "course.yml").write_text(
        f"id: {course_id}\nversion: 1.0.0\nlanguages: [fr]\ntitle: {{fr: Bibliothèque {lessons}}}\n"
        "license: CC0-1.0\n", encoding="utf-8")
    for n in range(1, lessons + 1):
        title = " ".join(rng.choice(WORDS) for _ in range(4)).capitalize()
        paras = "\n\n".join(" ".join(rng.choice(WORDS) for _ in range(60)) + "." for _ in range(4))
        (out / f"{n:05d}-lesson-{n}.fr.md").write_text(
            f"---\ntitle: {title} {n}\nminutes: 5\n---\n# {title}\n\n{paras}\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
            encoding="utf-8")
        a, b = rng.randint(1, 9), rng.randint(1, 9)
        (out / f"{n:05d}-lesson-{n}.fr.quiz.yml").write_text(
            f"questions:\n  - id: q1\n    type: numeric\n    text: Combien font {a} + {b} ?\n"
            f"    answers:\n      - {{value: {a + b}, tolerance: 0, credit: 1}}\n"
            f"  - id: q2\n    type: single\n    text: {rng.choice(WORDS)} ?\n"
            f"    answers:\n      - {{text: oui, correct: true}}\n      - {{text: non}}\n", encoding="utf-8")
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--lessons", type=int, default=5000)
    parser.add_argument("--id", default="library")
    args = parser.parse_args()
    print(write_course(args.out, args.lessons, args.id))
