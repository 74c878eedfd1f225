() => {
  // Gradio refuses some uploads in the browser (a file type or size it was told to refuse) and says so only in a
  // toast that fades; the page's own upload status says it too, and stays. Text only: nothing is parsed as HTML.
  const seen = new WeakSet();
  const mirror = () => {
    for (const toast of document.querySelectorAll('[data-testid="toast-text"]')) {
      if (seen.has(toast)) continue;
      seen.add(toast);
      const message = toast.textContent.trim();
      const status = document.querySelector("#rag-status");
      if (!status || !/file/i.test(message)) continue;
      const line = document.createElement("span");
      line.className = "rag-error rag-refused";
      line.textContent = `Refused · 未接受: ${message}`;
      const body = status.querySelector(".prose") || status;
      body.replaceChildren(line);
    }
  };
  new MutationObserver(mirror).observe(document.body, { childList: true, subtree: true });
}
