"""The supply registers in the admin, one module per register."""

from supply.account_admin import *  # noqa: F401, F403
from supply.call_admin import *  # noqa: F401, F403
from supply.catalogue_admin import *  # noqa: F401, F403
from supply.fair_admin import *  # noqa: F401, F403
