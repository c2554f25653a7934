"""Reading notes: Markdown and frontmatter in, frozen `Note` values out (sections, points,
line numbers), and the timestamps they cite resolved into moments of the video."""
