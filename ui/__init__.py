"""The Gradio chat page over `rag.engine.Engine` (`python -m ui.app` or `rag chat`)."""
