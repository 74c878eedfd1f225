"""The answer stage: answerers that turn a query and its retrieved sentences into a cited `Answer`.

One module per kind of answer — `figure` (the sentence that states the asked figure), `fact` (the sentence that
answers any other question), `summary` (an article in a few cited sentences) — and `reading` for how they read a
sentence. Each answerer takes the query and the hits and never retrieves. The LLM answerer is `rag.llm`.
"""

from rag.answerers.figure import FigureAnswerer

__all__ = ["FigureAnswerer"]
