// The bookmarks app: lists /api/bookmarks and adds to it.
async function load() {
  const response = await fetch("/api/bookmarks");
  const bookmarks = await response.json();
  const list = document.getElementById("list");
  list.replaceChildren(...bookmarks.map((b) => {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = b.url;
    link.textContent = b.title;
    item.append(link);
    return item;
  }));
}

document.getElementById("add").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const response = await fetch("/api/bookmarks", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "authorization": `Bearer ${form.get("token")}`,
    },
    body: JSON.stringify({ url: form.get("url"), title: form.get("title") }),
  });
  if (!response.ok) {
    const error = await response.json();
    alert(`${error.code}: ${error.message}`);
  }
  await load();
});

load();
