"""A hall keeps working when its link is down: a township centre or hall runs its own server as
the authority for its halls and replicates to the city server (rules: what travels and how a
batch fits, pure; store: reading a batch on the site, applying it on the city, the requests that
travel down; api: the city's endpoints and the guard on writes to a site's hall; ship: the
site's loop)."""
