"""A physiological heart model and a virtual chest strap that stands in for hardware.

The scenarios' names are kept here, apart from the model, so that a command's help can list
them without loading it.
"""

SCENARIO_NAMES = ("rest", "paced-6", "threat-then-soothe", "backdraft", "resonance-sweep",
                  "noisy-strap")
