"""Making cards: a note's sections in, cards out. `derive` walks the sections, `writer`
proposes each section's cards and says why, `sentences` and `casing` read one sentence,
`questions` phrases a heading's question."""
