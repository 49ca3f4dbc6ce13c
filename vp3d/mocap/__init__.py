"""Motion-capture readers: BVH (any rig, via a joint mapping) and Acclaim ASF/AMC -> Human3.6M-17 positions."""

from .asf_amc import load_asf_amc
from .bvh import load_bvh
from .collection import load_bvh_folder, load_collection
from .mapping import JointMapping, detect_mapping, load_mapping
from .motion import VALIDATION_SUBJECTS, Motion, labeled_subset, resample, split

__all__ = ["Motion", "load_bvh", "load_asf_amc", "load_collection", "load_bvh_folder", "VALIDATION_SUBJECTS", "split", "labeled_subset",
           "resample", "JointMapping", "load_mapping", "detect_mapping"]
