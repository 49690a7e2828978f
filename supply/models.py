"""The supply registers' models, one module per register."""

from supply.account_models import *  # noqa: F401, F403
from supply.call_models import *  # noqa: F401, F403
from supply.catalogue_models import *  # noqa: F401, F403
from supply.fair_models import *  # noqa: F401, F403
