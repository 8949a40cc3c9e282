"""Reaching experts who have no account: signed, expiring links sent by
e-mail (to answer a contact request, to claim an imported profile), the
invitations staff send from the expert listing or an import's report, and
the page where an expert claims the profile and gives consent online.

No table of its own: a link is a value signed with the site's SECRET_KEY
(django.core.signing, a salt per kind, a maximum age), naming the expert
and the address it was sent to, so a link stops working when staff change
that address, when it expires, or when what it allowed is done.
"""
