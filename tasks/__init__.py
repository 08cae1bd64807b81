"""Task generators: each gives a Dataset (and default settings) usable from Python and the CLI."""
from .autoencoder import autoencoder, autoencoder_arch, load_autoencoder
from .ca import ElementaryCA
from .classify import OPTDIGITS_ARCH, classification, optdigits
from .decoder import all_codes, assign_codes, decoder, decoder_report, load_mnist4, random_decoder
from .life import LifeLikeCA
from .logic import Gate, RandomLogicTeacher
from .multiplier import SPECS as MULTIPLIER_SPECS, multiplier, multiplier_spec, multiplier_split
from .recover import RuleRecovery, recover_rule
from .spec import RunSpec

__all__ = ["RunSpec", "multiplier", "multiplier_spec", "multiplier_split", "MULTIPLIER_SPECS",
           "ElementaryCA", "LifeLikeCA", "recover_rule", "RuleRecovery",
           "autoencoder", "load_autoencoder", "autoencoder_arch", "decoder", "random_decoder", "load_mnist4",
           "all_codes", "assign_codes", "decoder_report", "RandomLogicTeacher", "Gate", "optdigits",
           "classification", "OPTDIGITS_ARCH"]
