"""Multi-page articles: an article split over several pages (DedeCMS ``73.html``, ``73_2.html``;
PHPCMS ``…&page=2``; EmpireCMS ``12_2.html``) is one item.

The spider fetches the other pages (``[detail] pages`` in the plugin) and hands them over as
:attr:`normalizers.page.RawPage.parts`; :func:`with_parts` reads each with the same selectors
as the first page and appends its body, images and attachments, in reading order. The item keeps
the first page's identity, URL, title, date and metadata (the other pages repeat them). A part
whose body cannot be read is a field error naming its page, never a silent gap. Pure functions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from normalizers.models import Article, FieldError
from normalizers.page import ExtractionHints, PageContext, RawPage

__all__ = ["with_parts"]

Normalizer = Callable[[RawPage, PageContext, ExtractionHints | None], Article]


def with_parts(first: Article, page: RawPage, context: PageContext, hints: ExtractionHints | None,
               normalize: Normalizer) -> Article:
    """``first`` (the article read from ``page``'s first page) with the body of each of
    ``page.parts`` appended; ``normalize`` reads one page (``normalize_article``)."""
    if not page.parts:
        return first
    bodies, htmls = [first.body_text] if first.body_text else [], [first.body_html] if first.body_html else []
    images, attachments = list(first.images), list(first.attachments)
    seen_images = {str(i.url) for i in images}
    seen_files = {str(a.url) for a in attachments}
    errors = list(first.field_errors)
    for number, part in enumerate(page.parts, start=2):
        raw = RawPage(url=part.url, body=part.body, content_type=part.content_type, status=page.status,
                      fetched_at=page.fetched_at)
        # the part's own title is the article's (its pages repeat it): it must not be taken
        # from the part's body, and the list's title stands in if the part shows none
        part_context = replace(context, public_url=part.public_url, list_title=first.title, list_date=None)
        try:
            read = normalize(raw, part_context, hints)
        except ValueError as exc:  # NormalizationError: nothing readable on that page
            errors.append(FieldError(field="body_text", message=f"page {number} ({part.public_url}) not read: {exc}"))
            continue
        if read.body_text:
            bodies.append(read.body_text)
            htmls.append(read.body_html)
        else:
            errors.append(FieldError(field="body_text", message=f"page {number} ({part.public_url}) has no main text"))
        for image in read.images:
            if str(image.url) not in seen_images:
                seen_images.add(str(image.url))
                images.append(image)
        for attachment in read.attachments:
            if str(attachment.url) not in seen_files:
                seen_files.add(str(attachment.url))
                attachments.append(attachment)
        errors += [FieldError(field=e.field, severity=e.severity, raw=e.raw, message=f"page {number}: {e.message}")
                   for e in read.field_errors if e.field in ("body_text", "encoding", "extraction", "attachments")]
    return first.model_copy(update={"body_text": "\n\n".join(bodies), "body_html": "\n".join(htmls),
                                    "images": images, "attachments": attachments, "field_errors": errors})
