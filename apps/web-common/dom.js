// DOM helpers shared by the demo pages (bundled into each by apps/build-web.mjs).

/** The element with `data-testid="${testid}"`: the pages' stable names for their parts. */
export const byId = (testid) => document.querySelector(`[data-testid="${testid}"]`);

/** Creates an element; `text` goes in as textContent, so user data cannot become markup. */
export function h(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else node.setAttribute(k, v);
  }
  if (text !== undefined) node.textContent = text;
  return node;
}
