import Foundation
import Index
import Inference
import Ingest
