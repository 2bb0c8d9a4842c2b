/*
 * Material's bundle loads Mermaid from a CDN for pages with diagrams; this site
 * loads nothing from other hosts (generator/offline.py points that request here),
 * and its pages have no diagrams. A diagram would stay visible as its source text.
 */
