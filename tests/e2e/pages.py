"""What a page says once it has settled.

A click that submits a form returns when the next document has started loading (Playwright
waits for the navigation to commit), and `page.content()` read at that moment can be the
new document still empty. `html(page)` waits for the document's load event first, so an
assertion on the page's text reads the page the user sees.
"""


def html(page):
    page.wait_for_load_state("load")
    return page.content()
